package io.signalstream.ops;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of a Prometheus text endpoint, parsed into samples. */
final class PrometheusScrape {

    private static final Pattern LINE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+).*");
    private static final Pattern LABEL =
            Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** A sample: metric name, labels and value. */
    record Sample(String name, Map<String, String> labels, double value) {}

    final String text;
    final List<Sample> samples = new ArrayList<>();

    private PrometheusScrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            try {
                samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
            } catch (NumberFormatException e) {
                // NaN etc. are parsed by Double; anything else is not a sample
            }
        }
    }

    /** Scrapes {@code http://127.0.0.1:port/metrics}. */
    static PrometheusScrape of(HttpClient http, int port) throws IOException, InterruptedException {
        HttpResponse<String> r =
                http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode());
        }
        return new PrometheusScrape(r.body());
    }

    /** The samples of a metric whose labels pass the filter. */
    List<Sample> find(String name, Predicate<Map<String, String>> labels) {
        return samples.stream()
                .filter(s -> s.name().equals(name) && labels.test(s.labels()))
                .toList();
    }

    /** Sum over the subtasks (and other labels) of a metric; NaN if absent. */
    double sum(String name, Predicate<Map<String, String>> labels) {
        List<Sample> f = find(name, labels);
        return f.isEmpty()
                ? Double.NaN
                : f.stream().mapToDouble(Sample::value).filter(v -> !Double.isNaN(v)).sum();
    }

    /** Largest value over the matching samples; NaN if absent. */
    double max(String name, Predicate<Map<String, String>> labels) {
        return find(name, labels).stream()
                .mapToDouble(Sample::value)
                .filter(v -> !Double.isNaN(v))
                .max()
                .orElse(Double.NaN);
    }

    /** Filter: the label has this value. */
    static Predicate<Map<String, String>> label(String key, String value) {
        return l -> value.equals(l.get(key));
    }

    /** Filter: any labels. */
    static Predicate<Map<String, String>> any() {
        return l -> true;
    }
}
