package io.signalstream.local.cli;

import io.signalstream.cli.ConfigOptionsMixin;
import io.signalstream.local.eval.Evaluator;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code eval}: scores a provider on labelled data and writes JSON and markdown reports. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = {
            "Score an agent provider on labelled data (the formats under shared/data/):"
                    + " pii (precision/recall/F1 per type, exact and overlap), sentiment"
                    + " (accuracy, macro-F1), intent (accuracy on Bitext), summary (ROUGE-1/2/L).",
            "Writes the report as JSON to --report and as markdown next to it (.md)."
        })
public final class EvalCommand implements Callable<Integer> {

    @Option(
            names = "--task",
            required = true,
            paramLabel = "TASK",
            description = "pii, sentiment, intent or summary.")
    String task;

    @Option(
            names = "--data",
            required = true,
            paramLabel = "FILE",
            description = "Labelled data file.")
    Path data;

    @Option(
            names = "--provider",
            defaultValue = "local",
            paramLabel = "NAME",
            description =
                    "Provider to score: local (default) or a provider configured with --config/-D"
                            + " (its key from $SIGNALSTREAM_LLM_API_KEY).")
    String provider;

    @Option(
            names = "--report",
            required = true,
            paramLabel = "FILE",
            description = "JSON report to write.")
    Path report;

    @Option(
            names = "--limit",
            defaultValue = "0",
            description = "Score at most N records (default: all).")
    int limit;

    @Option(
            names = "--concurrency",
            defaultValue = "16",
            description = "Calls in flight (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Mixin ConfigOptionsMixin config;

    @Override
    public Integer call() throws Exception {
        if (!Files.isReadable(data)) {
            System.err.println("error: cannot read --data " + data);
            return 2;
        }
        Configuration conf = config.load();
        Map<String, Object> r;
        try (Evaluator evaluator = new Evaluator(provider, conf, concurrency, System.out)) {
            System.out.printf("Scoring provider %s on %s (%s)%n", provider, data, task);
            r = evaluator.run(task, data, limit);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        Files.write(report, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
        Path md =
                report.resolveSibling(
                        report.getFileName().toString().replaceFirst("\\.json$", "") + ".md");
        Files.writeString(md, markdown(r));
        System.out.print(markdown(r));
        System.out.println("Reports written to " + report + " and " + md);
        return 0;
    }

    /** The report as a markdown section. */
    @SuppressWarnings("unchecked")
    static String markdown(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        sb.append("### ")
                .append(r.get("task"))
                .append(" — provider ")
                .append(r.get("provider"))
                .append(", ")
                .append(r.get("records"))
                .append(" records (")
                .append(r.get("data"))
                .append(")\n\n");
        if (r.containsKey("per_type")) {
            sb.append(
                    "| type | precision | recall | F1 | support | overlap P | overlap R | overlap"
                            + " F1 |\n");
            sb.append("|---|---|---|---|---|---|---|---|\n");
            Map<String, Map<String, Object>> exact =
                    (Map<String, Map<String, Object>>) r.get("per_type");
            Map<String, Map<String, Object>> ov =
                    (Map<String, Map<String, Object>>)
                            ((Map<String, Object>) r.get("overlap")).get("per_type");
            exact.forEach(
                    (type, m) -> {
                        Map<String, Object> o = ov.getOrDefault(type, Map.of());
                        sb.append("| ")
                                .append(type)
                                .append(" | ")
                                .append(m.get("precision"))
                                .append(" | ")
                                .append(m.get("recall"))
                                .append(" | ")
                                .append(m.get("f1"))
                                .append(" | ")
                                .append(m.get("support"))
                                .append(" | ")
                                .append(o.get("precision"))
                                .append(" | ")
                                .append(o.get("recall"))
                                .append(" | ")
                                .append(o.get("f1"))
                                .append(" |\n");
                    });
            Map<String, Object> micro = (Map<String, Object>) r.get("micro");
            Map<String, Object> omicro =
                    (Map<String, Object>) ((Map<String, Object>) r.get("overlap")).get("micro");
            sb.append("| **micro** | ")
                    .append(micro.get("precision"))
                    .append(" | ")
                    .append(micro.get("recall"))
                    .append(" | ")
                    .append(micro.get("f1"))
                    .append(" | ")
                    .append(micro.get("support"))
                    .append(" | ")
                    .append(omicro.get("precision"))
                    .append(" | ")
                    .append(omicro.get("recall"))
                    .append(" | ")
                    .append(omicro.get("f1"))
                    .append(" |\n");
        } else {
            sb.append("| metric | value |\n|---|---|\n");
            for (String k :
                    new String[] {
                        "accuracy", "macro_f1", "rouge1", "rouge2", "rouge_l", "unmapped"
                    }) {
                if (r.containsKey(k)) {
                    sb.append("| ").append(k).append(" | ").append(r.get(k)).append(" |\n");
                }
            }
        }
        sb.append("\nerrors ")
                .append(r.get("errors"))
                .append(", elapsed ")
                .append(r.get("elapsed_s"))
                .append(" s\n");
        return sb.toString();
    }
}
