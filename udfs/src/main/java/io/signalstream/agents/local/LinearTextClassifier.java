package io.signalstream.agents.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * A multi-class linear model over sparse {@link TextFeatures} with a temperature-scaled softmax:
 * {@code p(c | x) = softmax((b_c + Σ_f w_fc x_f) / T)}. The weights are learnt by {@code eval
 * train} (L2-regularised logistic regression, liblinear) and {@code T} is fitted on a calibration
 * split of the training data (minimum negative log-likelihood), so the probability of the chosen
 * label is a calibrated confidence.
 *
 * <p>Model format (JSON, optionally gzip-compressed, as written by the trainer): {@code {"header":
 * {...provenance...}, "labels": [L], "temperature": T, "bias": [L], "weights": {"feature": [L]}}}.
 * Features the model does not know are ignored.
 *
 * <p>Instances are immutable and thread-safe; {@link #predict} allocates only the score array.
 */
public final class LinearTextClassifier {

    /**
     * One prediction.
     *
     * @param label the most probable label
     * @param confidence its calibrated probability, in [0, 1]
     * @param probabilities every label's probability (sums to 1), in label order
     */
    public record Prediction(String label, double confidence, Map<String, Double> probabilities) {}

    private final List<String> labels;
    private final double temperature;
    private final double[] bias;
    private final Map<String, float[]> weights;
    private final JsonNode header;

    /**
     * @param labels class labels (at least 2)
     * @param temperature softmax temperature, &gt; 0
     * @param bias one bias per label
     * @param weights feature → one weight per label
     * @param header provenance (data, split seed, date), may be null
     * @throws IllegalArgumentException if the shapes disagree or the temperature is not positive
     */
    public LinearTextClassifier(
            List<String> labels,
            double temperature,
            double[] bias,
            Map<String, float[]> weights,
            JsonNode header) {
        if (labels.size() < 2 || bias.length != labels.size()) {
            throw new IllegalArgumentException(
                    "need >= 2 labels and one bias each, got "
                            + labels.size()
                            + " labels, "
                            + bias.length
                            + " biases");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        }
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            if (e.getValue().length != labels.size()) {
                throw new IllegalArgumentException("feature " + e.getKey() + ": wrong width");
            }
        }
        this.labels = List.copyOf(labels);
        this.temperature = temperature;
        this.bias = bias.clone();
        this.weights = Collections.unmodifiableMap(new HashMap<>(weights));
        this.header = header;
    }

    /**
     * Reads a model from the classpath.
     *
     * @param resource classpath location; a name ending in {@code .gz} is gunzipped
     * @return the model
     * @throws UncheckedIOException if it is missing or unreadable
     * @throws IllegalArgumentException if it is malformed
     */
    public static LinearTextClassifier fromResource(String resource) {
        try (InputStream raw = LinearTextClassifier.class.getResourceAsStream(resource)) {
            if (raw == null) {
                throw new UncheckedIOException(
                        new IOException("model resource " + resource + " not found"));
            }
            InputStream in = resource.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            return fromJson(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + resource, e);
        }
    }

    /**
     * Builds a model from its JSON form.
     *
     * @throws IllegalArgumentException if a field is missing or has the wrong shape
     */
    public static LinearTextClassifier fromJson(JsonNode root) {
        JsonNode labelsNode = Objects.requireNonNull(root.get("labels"), "labels");
        List<String> labels = new ArrayList<>();
        labelsNode.forEach(l -> labels.add(l.asText()));
        double[] bias = new double[labels.size()];
        JsonNode b = root.path("bias");
        if (b.size() != labels.size()) {
            throw new IllegalArgumentException("bias needs " + labels.size() + " values");
        }
        for (int i = 0; i < bias.length; i++) {
            bias[i] = b.get(i).asDouble();
        }
        Map<String, float[]> w = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.path("weights").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            float[] v = new float[e.getValue().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) e.getValue().get(i).asDouble();
            }
            w.put(e.getKey(), v);
        }
        return new LinearTextClassifier(
                labels, root.path("temperature").asDouble(1.0), bias, w, root.get("header"));
    }

    /**
     * The model in the JSON form {@link #fromJson} reads, weights rounded to 4 decimals and
     * features sorted by name (so the file diffs well).
     */
    public ObjectNode toJson() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        if (header != null) {
            root.set("header", header);
        }
        ArrayNode l = root.putArray("labels");
        labels.forEach(l::add);
        root.put("temperature", temperature);
        ArrayNode b = root.putArray("bias");
        for (double v : bias) {
            b.add(round4(v));
        }
        ObjectNode w = root.putObject("weights");
        new TreeMap<>(weights)
                .forEach(
                        (f, v) -> {
                            ArrayNode a = w.putArray(f);
                            for (float x : v) {
                                a.add(round4(x));
                            }
                        });
        return root;
    }

    private static double round4(double v) {
        return Math.round(v * 10000.0) / 10000.0;
    }

    /**
     * The same model with other biases, e.g. shifted to a deployment class prior: {@code b_c + T ·
     * log(prior_c / trainPrior_c)} turns {@code p(c | x)} into {@code p(c | x) · prior_c /
     * trainPrior_c}, renormalised (Saerens et al. 2002).
     *
     * @param newBias one bias per label
     * @param newHeader provenance, may be null
     */
    public LinearTextClassifier withBias(double[] newBias, JsonNode newHeader) {
        return new LinearTextClassifier(labels, temperature, newBias, weights, newHeader);
    }

    /**
     * The same model with another softmax temperature.
     *
     * @param newTemperature &gt; 0
     * @param newHeader provenance, may be null
     */
    public LinearTextClassifier withTemperature(double newTemperature, JsonNode newHeader) {
        return new LinearTextClassifier(labels, newTemperature, bias, weights, newHeader);
    }

    /** The class labels in model order. */
    public List<String> labels() {
        return labels;
    }

    /** The softmax temperature fitted for calibration. */
    public double temperature() {
        return temperature;
    }

    /** Number of features with weights. */
    public int featureCount() {
        return weights.size();
    }

    /** The provenance header written by the trainer (data, split seed, date), or null. */
    public JsonNode header() {
        return header;
    }

    /**
     * Raw decision values {@code b_c + Σ_f w_fc x_f} (before the temperature).
     *
     * @param features feature → value, e.g. from {@link TextFeatures#extract}
     */
    public double[] scores(Map<String, Double> features) {
        double[] z = bias.clone();
        for (Map.Entry<String, Double> e : features.entrySet()) {
            float[] w = weights.get(e.getKey());
            if (w != null) {
                double x = e.getValue();
                for (int c = 0; c < z.length; c++) {
                    z[c] += w[c] * x;
                }
            }
        }
        return z;
    }

    /**
     * Softmax of {@code z / temperature}, numerically stable.
     *
     * @param z decision values
     * @param temperature &gt; 0
     * @return probabilities summing to 1
     */
    public static double[] softmax(double[] z, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp((z[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * Classifies one feature vector.
     *
     * @param features feature → value
     * @return the most probable label and its calibrated probability
     */
    public Prediction predict(Map<String, Double> features) {
        double[] p = softmax(scores(features), temperature);
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        Map<String, Double> probs = new LinkedHashMap<>();
        for (int i = 0; i < p.length; i++) {
            probs.put(labels.get(i), p[i]);
        }
        return new Prediction(labels.get(best), p[best], probs);
    }
}
