package io.signalstream.ops;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import static io.signalstream.ops.PrometheusScrape.any;
import static io.signalstream.ops.PrometheusScrape.label;

/**
 * Draws the panels of {@code k8s-operator/dashboard/signalstream-dashboard.json} from a series of
 * {@code /metrics} scrapes, the way Grafana shows them (rates of counters, quantiles of histograms,
 * gauges), as one PNG: the dashboard picture of the operations guide.
 */
final class DashboardPicture {

    private static final String OP = PrometheusMetricsITCase.OP;
    private static final String AGENT = PrometheusMetricsITCase.AGENT;
    private static final List<String> AGENTS = List.of("pii", "sentiment", "insights", "summary");
    private static final int W = 560;
    private static final int H = 300;

    private final List<Double> seconds = new ArrayList<>();
    private final List<PrometheusScrape> scrapes = new ArrayList<>();
    private final long start = System.nanoTime();

    /** Adds a scrape, taken now. */
    void add(PrometheusScrape s) {
        seconds.add((System.nanoTime() - start) / 1e9);
        scrapes.add(s);
    }

    /** Renders the panels into {@code file}. */
    void write(Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> panels = new ArrayList<>();
        Map<String, ToDoubleFunction<PrometheusScrape>> m = new LinkedHashMap<>();
        for (String a : AGENTS) {
            m.put(a, s -> s.sum(AGENT + "requests", label("agent", a)));
        }
        panels.add(chart("Agent requests / s", "req/s", rates(m)));
        m.clear();
        for (String a : AGENTS) {
            m.put(
                    a,
                    s ->
                            s.max(
                                    AGENT + "latency_ms",
                                    label("agent", a).and(label("quantile", "0.95"))));
        }
        panels.add(chart("Agent latency p95", "ms", values(m)));
        m.clear();
        for (String q : List.of("0.5", "0.95", "0.99")) {
            m.put(
                    "p" + q.substring(2),
                    s -> s.max(OP + "end_to_end_latency_ms", label("quantile", q)));
        }
        panels.add(chart("End-to-end latency (input record -> aggregated)", "ms", values(m)));
        m.clear();
        m.put("complete", s -> s.sum(OP + "aggregated_complete", any()));
        m.put("partial", s -> s.sum(OP + "aggregated_partial", any()));
        panels.add(chart("Aggregated outputs / s", "rec/s", rates(m)));
        m.clear();
        for (String a : AGENTS) {
            m.put(
                    a,
                    s ->
                            s.sum(AGENT + "prompt_tokens", label("agent", a))
                                    + s.sum(AGENT + "completion_tokens", label("agent", a)));
        }
        panels.add(chart("LLM tokens / s (prompt + completion)", "tok/s", rates(m)));
        m.clear();
        for (String c : List.of("failures", "timeouts", "fallbacks", "retries")) {
            m.put(c, s -> s.sum(AGENT + c, any()));
        }
        m.put("llm retries", s -> maxOver(s, "llm_retries"));
        panels.add(chart("Failures, timeouts, fallbacks, retries (total)", "count", values(m)));
        m.clear();
        m.put("active conversations", s -> s.sum(OP + "active_conversations", any()));
        m.put("agent calls in flight", s -> s.sum(AGENT + "in_flight", any()));
        panels.add(chart("Active conversations, calls in flight", "", values(m)));
        m.clear();
        m.put("consumer lag (pendingRecords)", s -> s.sum(OP + "pendingRecords", any()));
        m.put("dead letters (total)", s -> s.sum(OP + "dead_letters_reason_count", any()));
        panels.add(chart("Kafka consumer lag, dead letters", "records", values(m)));

        int cols = 2;
        int rows = (panels.size() + cols - 1) / cols;
        BufferedImage img = new BufferedImage(cols * W, rows * H + 50, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(
                RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(new Color(0x18, 0x1b, 0x1f));
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.WHITE);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
        g.drawString("SignalStream - Flink job (Prometheus, from PrometheusMetricsITCase)", 16, 32);
        for (int i = 0; i < panels.size(); i++) {
            g.drawImage(
                    BitmapEncoder.getBufferedImage(panels.get(i)),
                    (i % cols) * W,
                    50 + (i / cols) * H,
                    null);
        }
        g.dispose();
        Files.createDirectories(file.toAbsolutePath().getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    private static double maxOver(PrometheusScrape s, String gauge) {
        double v = s.max(AGENT + gauge, any());
        return Double.isNaN(v) ? 0 : v;
    }

    private Map<String, double[]> values(Map<String, ToDoubleFunction<PrometheusScrape>> series) {
        Map<String, double[]> out = new LinkedHashMap<>();
        series.forEach(
                (name, f) ->
                        out.put(
                                name,
                                scrapes.stream()
                                        .mapToDouble(s -> clean(f.applyAsDouble(s)))
                                        .toArray()));
        return out;
    }

    private Map<String, double[]> rates(Map<String, ToDoubleFunction<PrometheusScrape>> series) {
        Map<String, double[]> out = new LinkedHashMap<>();
        series.forEach(
                (name, f) -> {
                    double[] v = new double[scrapes.size()];
                    for (int i = 1; i < v.length; i++) {
                        double dt = seconds.get(i) - seconds.get(i - 1);
                        double d =
                                clean(f.applyAsDouble(scrapes.get(i)))
                                        - clean(f.applyAsDouble(scrapes.get(i - 1)));
                        v[i] = dt > 0 ? Math.max(0, d / dt) : 0;
                    }
                    out.put(name, v);
                });
        return out;
    }

    private static double clean(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? 0 : v;
    }

    private XYChart chart(String title, String yTitle, Map<String, double[]> series) {
        XYChart c =
                new XYChartBuilder()
                        .width(W)
                        .height(H)
                        .title(title)
                        .xAxisTitle("s")
                        .yAxisTitle(yTitle)
                        .build();
        c.getStyler().setTheme(new org.knowm.xchart.style.theme.GGPlot2Theme());
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setMarkerSize(0);
        c.getStyler().setChartBackgroundColor(new Color(0x22, 0x25, 0x2b));
        c.getStyler().setChartFontColor(Color.WHITE);
        c.getStyler().setAxisTickLabelsColor(Color.LIGHT_GRAY);
        c.getStyler().setLegendBackgroundColor(new Color(0x22, 0x25, 0x2b));
        c.getStyler().setLegendBorderColor(Color.GRAY);
        double[] x = seconds.stream().mapToDouble(Double::doubleValue).toArray();
        if (x.length == 0) {
            x = new double[] {0};
        }
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[] y = e.getValue().length == x.length ? e.getValue() : new double[x.length];
            c.addSeries(e.getKey(), x, y);
        }
        return c;
    }
}
