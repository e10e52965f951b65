package io.signalstream.local.eval;

import io.signalstream.agents.local.LinearTextClassifier;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code eval train}: splits, the evaluation-only guard, calibration, and a tiny training run. */
class ModelTrainerTest {

    @TempDir Path tmp;

    /** {@code shared/data}, found walking up from the working directory. */
    static Path sharedData() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path c = d.resolve("shared").resolve("data");
            if (Files.isDirectory(c)) {
                return c;
            }
        }
        throw new IllegalStateException(
                "shared/data not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void evaluationOnlyDataIsRefused() throws Exception {
        assertThatThrownBy(
                        () ->
                                TrainingSplits.requireTrainable(
                                        Path.of("x/sentiment/airline-tweets-public.csv"), "a,b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("evaluation-only");
        assertThatThrownBy(
                        () ->
                                TrainingSplits.requireTrainable(
                                        Path.of("summaries/tweetsumm-public.jsonl"), "{}"))
                .isInstanceOf(IllegalArgumentException.class);
        // The airline set copied under a training name is recognised by its columns.
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir.resolve("sentiment"));
        Files.createDirectories(dir.resolve("intent"));
        Files.writeString(dir.resolve(ModelTrainer.VADER_TWEETS), "1\t2.0\tgreat\n");
        Files.writeString(
                dir.resolve(ModelTrainer.BITEXT),
                "tweet_id,airline_sentiment,text\n1,negative,\"late again\"\n");
        Files.writeString(dir.resolve(ModelTrainer.BANKING77), "text,category\nhi,age_limit\n");
        assertThatThrownBy(() -> new ModelTrainer(dir, null).load())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("evaluation-only");
        TrainingSplits.requireTrainable(Path.of("intent/bitext-public.csv"), "instruction,intent");
    }

    @Test
    void evalTrainCommandRefusesEvaluationOnlyDataAndEvalStillNeedsAReport() throws Exception {
        Path dir = tmp.resolve("cli");
        Files.createDirectories(dir.resolve("sentiment"));
        Files.createDirectories(dir.resolve("intent"));
        // The airline tweets under the VADER file's name: refused by their columns.
        Files.writeString(
                dir.resolve(ModelTrainer.VADER_TWEETS),
                "tweet_id,airline_sentiment,text\n1,negative,late\n");
        Files.writeString(
                dir.resolve(ModelTrainer.BITEXT),
                "instruction,intent\n\"cancel it\",cancel_order\n");
        Files.writeString(dir.resolve(ModelTrainer.BANKING77), "text,category\nhi,age_limit\n");
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        int train;
        int noReport;
        System.setErr(new java.io.PrintStream(captured, true, "UTF-8"));
        try {
            train =
                    new picocli.CommandLine(new io.signalstream.local.cli.EvalCommand())
                            .execute(
                                    "train",
                                    "--data-dir",
                                    dir.toString(),
                                    "--out",
                                    tmp.resolve("out").toString());
            noReport =
                    new picocli.CommandLine(new io.signalstream.local.cli.EvalCommand())
                            .execute("--task", "intent", "--data", dir.toString());
        } finally {
            System.setErr(err);
        }
        assertThat(train).isEqualTo(2);
        assertThat(noReport).isEqualTo(2);
        assertThat(captured.toString("UTF-8"))
                .contains("evaluation-only")
                .contains("give --report FILE");
        assertThat(tmp.resolve("out").resolve("sentiment-v1.json.gz")).doesNotExist();
    }

    @Test
    void theTrainingSetsNeverHoldAHeldOutBitextRow() throws Exception {
        ModelTrainer.TrainingSets sets = new ModelTrainer(sharedData(), null).load();
        int bitextRows = 0;
        List<ModelTrainer.Example> all = new ArrayList<>(sets.intent());
        all.addAll(sets.sentiment());
        for (ModelTrainer.Example e : all) {
            if ("bitext".equals(e.source())) {
                bitextRows++;
                assertThat(TrainingSplits.heldOut(e.text())).as(e.text()).isFalse();
            }
        }
        assertThat(bitextRows).isPositive();
        // About 30% of the 4,536 public rows are held out.
        assertThat(sets.bitextHeldOut()).isBetween(1200, 1530);
        assertThat(sets.sentiment()).extracting(ModelTrainer.Example::source).contains("vader");
    }

    @Test
    void splitsAreDeterministicAndCaseInsensitive() {
        int held = 0;
        for (int i = 0; i < 2000; i++) {
            String t = "request number " + i;
            assertThat(TrainingSplits.heldOut(t))
                    .isEqualTo(TrainingSplits.heldOut(" " + t.toUpperCase() + " "));
            held += TrainingSplits.heldOut(t) ? 1 : 0;
        }
        assertThat(held).isBetween(500, 700);
    }

    @Test
    void temperatureUndoesOverconfidence() {
        // Scores 3x too large for the labels: the fitted temperature is about 3, and it lowers
        // the negative log-likelihood.
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        int n = 4000;
        double[][] z = new double[n][];
        int[] gold = new int[n];
        for (int i = 0; i < n; i++) {
            double m = r.nextDouble(-2, 2);
            double p = 1 / (1 + Math.exp(-m));
            gold[i] = r.nextDouble() < p ? 0 : 1;
            z[i] = new double[] {3 * m, 0};
        }
        double t = ModelTrainer.fitTemperature(z, gold);
        assertThat(t).isBetween(2.5, 3.5);
        assertThat(ModelTrainer.nll(z, gold, t)).isLessThan(ModelTrainer.nll(z, gold, 1.0));
    }

    @Test
    void emPriorFollowsTheUnlabeledData() {
        List<double[]> post = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            post.add(new double[] {0.9, 0.05, 0.05});
        }
        for (int i = 0; i < 30; i++) {
            post.add(new double[] {0.05, 0.9, 0.05});
        }
        for (int i = 0; i < 10; i++) {
            post.add(new double[] {0.05, 0.05, 0.9});
        }
        double[] prior = ModelTrainer.emPrior(post, 3);
        assertThat(prior[0] + prior[1] + prior[2])
                .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(prior[0]).isGreaterThan(0.6);
        assertThat(prior[1]).isBetween(0.2, 0.35);
        assertThat(prior[2]).isLessThan(0.1);
        // Symmetric data keeps the uniform prior.
        double[] uniform =
                ModelTrainer.emPrior(List.of(new double[] {0.8, 0.2}, new double[] {0.2, 0.8}), 2);
        assertThat(uniform[0]).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void airlineDevTestSplitIsDeterministicAndHalf() {
        int dev = 0;
        for (long i = 0; i < 4000; i++) {
            String id = String.valueOf(568000000000000000L + i * 7919);
            assertThat(TrainingSplits.airlineDev(id)).isEqualTo(TrainingSplits.airlineDev(id));
            dev += TrainingSplits.airlineDev(id) ? 1 : 0;
        }
        assertThat(dev).isBetween(1800, 2200);
        assertThat(TrainingSplits.airlineDev(null)).isFalse();
    }

    @Test
    void selfTrainsOnTheCustomerMessagesDeterministically() throws Exception {
        Path dir = tinyData("selftrain");
        Files.createDirectories(dir.resolve("conversations"));
        StringBuilder conv = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            String msg = i % 2 == 0 ? "terrible and broken again " + i : "awesome thanks " + i;
            conv.append(
                    Json.MAPPER.writeValueAsString(
                            Map.of(
                                    "conversation_id",
                                    "c" + i,
                                    "sender",
                                    "customer",
                                    "message",
                                    msg)));
            conv.append('\n');
            conv.append(
                    Json.MAPPER.writeValueAsString(
                            Map.of(
                                    "conversation_id", "c" + i,
                                    "sender", "agent",
                                    "message", "sorry to hear that")));
            conv.append('\n');
        }
        Files.writeString(dir.resolve(ModelTrainer.CONVERSATIONS), conv);
        @SuppressWarnings("unchecked")
        Map<String, Object> first =
                (Map<String, Object>)
                        new ModelTrainer(dir, null).trainAll(tmp.resolve("m1")).get("sentiment");
        assertThat(first.get("self_training_rounds")).isEqualTo(1);
        // Only the customers' messages are read, and the confident ones join the training rows.
        assertThat(first.get("target_prior_rows")).isEqualTo(40);
        assertThat((int) first.get("self_training_rows")).isBetween(1, 40);
        LinearTextClassifier a = read(tmp.resolve("m1").resolve("sentiment-v1.json.gz"));
        assertThat(a.header().path("self_training_rows").asInt())
                .isEqualTo(first.get("self_training_rows"));
        // The answers' temperature is fitted on the tweets' calibration rows only; the one the
        // decisions were made with (prior, self-training) is kept beside it.
        assertThat(a.header().path("temperature_rows").asInt())
                .isPositive()
                .isLessThan(a.header().path("rows_calibration").asInt());
        assertThat(a.temperature()).isEqualTo(a.header().path("temperature").asDouble());
        assertThat(a.header().path("temperature_decisions").asDouble()).isPositive();
        assertThat(first.get("temperature")).isEqualTo(Scores.round(a.temperature()));
        // Retraining gives the same weights.
        new ModelTrainer(dir, null).trainAll(tmp.resolve("m2"));
        LinearTextClassifier b = read(tmp.resolve("m2").resolve("sentiment-v1.json.gz"));
        assertThat(b.toJson().get("weights")).isEqualTo(a.toJson().get("weights"));
        assertThat(b.toJson().get("bias")).isEqualTo(a.toJson().get("bias"));
    }

    @SuppressWarnings("unchecked")
    @Test
    void trainsAndWritesLoadableModels() throws Exception {
        Path dir = tinyData("data");
        Path out = tmp.resolve("models");
        Map<String, Object> report = new ModelTrainer(dir, null).trainAll(out);
        assertThat(report).containsKeys("sentiment", "intent");
        // No conversations file: no prior and no self-training.
        assertThat((Map<String, Object>) report.get("sentiment"))
                .doesNotContainKeys("target_prior", "self_training_rows");
        LinearTextClassifier s = read(out.resolve("sentiment-v1.json.gz"));
        assertThat(s.labels()).containsExactly("negative", "neutral", "positive");
        assertThat(s.header().path("rows_calibration").asInt()).isPositive();
        LinearTextClassifier in = read(out.resolve("intent-v1.json.gz"));
        assertThat(in.labels())
                .containsExactly("cancel_order", "delivery_status", "refund_request");
        assertThat(in.header().path("bitext_held_out_rows").asInt()).isPositive();
    }

    /** A tiny training data directory: VADER-style tweets, Bitext and BANKING77 rows. */
    private Path tinyData(String name) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir.resolve("sentiment"));
        Files.createDirectories(dir.resolve("intent"));
        StringBuilder tweets = new StringBuilder();
        StringBuilder bitext = new StringBuilder("instruction,intent,category\n");
        StringBuilder bank = new StringBuilder("text,category\n");
        String[] good = {"great", "love", "wonderful", "thanks", "awesome"};
        String[] bad = {"awful", "hate", "terrible", "worst", "broken"};
        for (int i = 0; i < 60; i++) {
            tweets.append(i)
                    .append("\t2.5\t")
                    .append(good[i % 5])
                    .append(" day number ")
                    .append(i)
                    .append('\n');
            tweets.append(100 + i)
                    .append("\t-2.5\t")
                    .append(bad[i % 5])
                    .append(" day number ")
                    .append(i)
                    .append('\n');
            tweets.append(200 + i).append("\t0.0\tthe bus leaves at ").append(i).append('\n');
            bitext.append("\"I want a refund for order ")
                    .append(i)
                    .append("\",get_refund,REFUND\n");
            bitext.append("\"cancel my order number ").append(i).append("\",cancel_order,ORDER\n");
            bank.append("my card still has not arrived ").append(i).append(",card_arrival\n");
        }
        Files.writeString(dir.resolve(ModelTrainer.VADER_TWEETS), tweets);
        Files.writeString(dir.resolve(ModelTrainer.BITEXT), bitext);
        Files.writeString(dir.resolve(ModelTrainer.BANKING77), bank);
        return dir;
    }

    private static LinearTextClassifier read(Path gz) throws Exception {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            return LinearTextClassifier.fromJson(new ObjectMapper().readTree(in));
        }
    }
}
