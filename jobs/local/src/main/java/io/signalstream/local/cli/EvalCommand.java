package io.signalstream.local.cli;

import io.signalstream.cli.ConfigOptionsMixin;
import io.signalstream.config.JobOptions;
import io.signalstream.jobs.JobConfigLoader;
import io.signalstream.local.eval.Evaluator;
import io.signalstream.local.eval.LearningSignalSet;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

/** {@code eval}: scores a provider on labelled data and writes JSON and markdown reports. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        subcommands = {EvalTrainCommand.class, TrainPiiCommand.class},
        description = {
            "Score an agent provider on labelled data (the formats under shared/data/):"
                    + " pii (precision/recall/F1 per type, exact and overlap), sentiment"
                    + " (accuracy, macro-F1), intent (accuracy on Bitext), summary (ROUGE-1/2/L).",
            "Writes the report as JSON to --report and as markdown next to it (.md).",
            "With --learning-signals FILE|TOPIC instead of --task/--data: the humans' corrections"
                + " (support.learning-signals) as a labelled data set: agreement per agent and"
                + " prompt version, and with --pairs the (input, expected) pairs as JSON lines plus"
                + " the sentiment labels as a --task sentiment CSV (<pairs>-sentiment.csv)."
        })
public final class EvalCommand implements Callable<Integer> {

    @Option(
            names = "--task",
            paramLabel = "TASK",
            description = "pii, sentiment, intent or summary.")
    String task;

    @Option(names = "--data", paramLabel = "FILE", description = "Labelled data file.")
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
            paramLabel = "FILE",
            description = "JSON report to write (required).")
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

    @Option(
            names = "--learning-signals",
            paramLabel = "FILE|TOPIC",
            description =
                    "Learning signals to read: a JSON-lines file, or else a topic (e.g."
                            + " support.learning-signals) of --bootstrap-servers.")
    String learningSignals;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOSTS",
            description = "Kafka of the --learning-signals topic.")
    String bootstrapServers;

    @Option(
            names = "--messages",
            paramLabel = "FILE",
            description =
                    "With a signals file: the replayed chat messages (JSON lines) the inputs of the"
                            + " pairs come from; a topic takes them from"
                            + " support.conversations.state.")
    Path messages;

    @Option(
            names = "--pairs",
            paramLabel = "FILE",
            description = "With --learning-signals: write the (input, expected) pairs here.")
    Path pairs;

    @Mixin ConfigOptionsMixin config;

    @Override
    public Integer call() throws Exception {
        if (report == null) {
            // Not required by picocli, so that `eval train` needs no --report of its parent.
            System.err.println("error: give --report FILE");
            return 2;
        }
        if (learningSignals != null) {
            return learningSignals();
        }
        if (task == null || data == null) {
            System.err.println("error: give --task and --data, or --learning-signals");
            return 2;
        }
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

    private int learningSignals() throws Exception {
        Path file = Path.of(learningSignals);
        List<JsonNode> signals;
        Map<String, String> inputs = Map.of();
        if (Files.isRegularFile(file)) {
            try {
                signals = LearningSignalSet.readFile(file);
            } catch (IllegalArgumentException e) {
                System.err.println("error: " + e.getMessage());
                return 2;
            }
            if (messages != null) {
                inputs = LearningSignalSet.inputsFromMessages(messages);
            }
        } else if (bootstrapServers == null) {
            System.err.println(
                    "error: --learning-signals "
                            + learningSignals
                            + " is no file; give --bootstrap-servers to read it as a topic");
            return 2;
        } else {
            Configuration conf = config.load();
            conf.set(JobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
            Properties client = JobConfigLoader.kafkaProperties(conf);
            client.put("bootstrap.servers", bootstrapServers);
            Duration timeout = Duration.ofSeconds(60);
            signals = LearningSignalSet.readSignalsTopic(client, learningSignals, timeout);
            if (pairs != null) {
                inputs =
                        LearningSignalSet.inputsFromSnapshots(
                                client, conf.get(JobOptions.TOPIC_STATE), timeout);
            }
        }
        Map<String, Object> r = LearningSignalSet.report(signals);
        r.put("data", learningSignals);
        if (pairs != null) {
            List<LearningSignalSet.Pair> p = LearningSignalSet.pairs(signals, inputs);
            LearningSignalSet.writePairs(p, pairs);
            Path csv =
                    pairs.resolveSibling(
                            pairs.getFileName().toString().replaceFirst("\\.[^.]*$", "")
                                    + "-sentiment.csv");
            int rows = LearningSignalSet.writeSentimentCsv(p, csv);
            r.put("pairs", pairs.toString());
            r.put("pairs_with_input", p.stream().filter(x -> x.input() != null).count());
            r.put("sentiment_csv", csv.toString());
            r.put("sentiment_csv_rows", rows);
        }
        Files.write(report, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(r));
        System.out.print(learningSignalsMarkdown(r));
        System.out.println("Report written to " + report);
        return 0;
    }

    /** The learning-signals report as a markdown table. */
    @SuppressWarnings("unchecked")
    static String learningSignalsMarkdown(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        sb.append("### learning signals — ")
                .append(r.get("records"))
                .append(" corrections (")
                .append(r.get("data"))
                .append("), agreement ")
                .append(r.get("agreement"))
                .append(
                        "\n\n| agent | prompt version | providers | models | judged | agreed |"
                                + " agreement |\n|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> m : (List<Map<String, Object>>) r.get("per_prompt")) {
            row(
                    sb,
                    m.get("agent"),
                    m.get("prompt_version"),
                    String.join(", ", (List<String>) m.get("providers")),
                    String.join(", ", (List<String>) m.get("models")),
                    m.get("judged"),
                    m.get("agreed"),
                    m.get("agreement"));
        }
        if (r.containsKey("pairs")) {
            sb.append("\npairs: ")
                    .append(r.get("pairs"))
                    .append(" (")
                    .append(r.get("pairs_with_input"))
                    .append(" with input); sentiment CSV for eval --task sentiment: ")
                    .append(r.get("sentiment_csv"))
                    .append(" (")
                    .append(r.get("sentiment_csv_rows"))
                    .append(" rows)\n");
        }
        return sb.toString();
    }

    /** Reliability bins and the threshold table of {@code Scores.calibration}, if present. */
    @SuppressWarnings("unchecked")
    static void calibrationMarkdown(StringBuilder sb, String what, Object calibration) {
        if (!(calibration instanceof Map<?, ?>)) {
            return;
        }
        Map<String, Object> c = (Map<String, Object>) calibration;
        sb.append("\nreliability")
                .append(what)
                .append(": ")
                .append(c.get("with_confidence"))
                .append(" answers with a confidence, ECE ")
                .append(c.get("ece"))
                .append("\n\n| confidence bin | answers | mean confidence | accuracy |\n")
                .append("|---|---|---|---|\n");
        for (Map<String, Object> b : (List<Map<String, Object>>) c.get("reliability")) {
            row(sb, b.get("bin"), b.get("count"), b.get("mean_confidence"), b.get("accuracy"));
        }
        sb.append("\n| confidence ≥ | coverage | accuracy |\n|---|---|---|\n");
        for (Map<String, Object> t : (List<Map<String, Object>>) c.get("thresholds")) {
            row(sb, t.get("threshold"), t.get("coverage"), t.get("accuracy"));
        }
    }

    /** The per-type exact and overlap table of a PII report (or its held-out part). */
    @SuppressWarnings("unchecked")
    private static void piiTable(StringBuilder sb, Map<String, Object> r) {
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
                    row(
                            sb,
                            type,
                            m.get("precision"),
                            m.get("recall"),
                            m.get("f1"),
                            m.get("support"),
                            o.get("precision"),
                            o.get("recall"),
                            o.get("f1"));
                });
        Map<String, Object> micro = (Map<String, Object>) r.get("micro");
        Map<String, Object> omicro =
                (Map<String, Object>) ((Map<String, Object>) r.get("overlap")).get("micro");
        row(
                sb,
                "**micro**",
                micro.get("precision"),
                micro.get("recall"),
                micro.get("f1"),
                micro.get("support"),
                omicro.get("precision"),
                omicro.get("recall"),
                omicro.get("f1"));
    }

    /** Appends one markdown table row {@code | a | b | … |} with the cells' string values. */
    private static void row(StringBuilder sb, Object... cells) {
        for (Object c : cells) {
            sb.append("| ").append(c).append(' ');
        }
        sb.append("|\n");
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
            sb.append("Full set:\n\n");
            piiTable(sb, r);
            if (r.get("held_out") instanceof Map<?, ?> held) {
                sb.append("\nHeld-out ")
                        .append(held.get("records"))
                        .append(" records (never trained on; ")
                        .append(held.get("split"))
                        .append("):\n\n");
                piiTable(sb, (Map<String, Object>) held);
                sb.append("\nHeld-out redaction precision (findings covering PII of any type): ");
                ((Map<String, Map<String, Object>>) held.get("redaction_precision"))
                        .forEach(
                                (type, m) ->
                                        sb.append(type)
                                                .append(' ')
                                                .append(m.get("on_pii"))
                                                .append('/')
                                                .append(m.get("found"))
                                                .append("; "));
                sb.append('\n');
                sb.append(
                        "\nHeld-out precision / recall (exact) at confidence >= threshold:\n\n"
                                + "| threshold | type | precision | recall | F1 |\n"
                                + "|---|---|---|---|---|\n");
                ((Map<String, Map<String, Map<String, Object>>>) held.get("at_confidence"))
                        .forEach(
                                (th, types) ->
                                        types.forEach(
                                                (type, m) ->
                                                        row(
                                                                sb,
                                                                th,
                                                                type,
                                                                m.get("precision"),
                                                                m.get("recall"),
                                                                m.get("f1"))));
            }
        } else {
            sb.append("| metric | value |\n|---|---|\n");
            for (String k :
                    new String[] {
                        "accuracy", "macro_f1", "rouge1", "rouge2", "rouge_l", "unmapped"
                    }) {
                if (r.containsKey(k)) {
                    row(sb, k, r.get(k));
                }
            }
        }
        calibrationMarkdown(sb, "", r.get("calibration"));
        if (r.get("held_out") instanceof Map<?, ?> held) {
            sb.append("\nheld out of training: ").append(held.get("records")).append(" records");
            if (held.get("accuracy") != null) {
                sb.append(", accuracy ").append(held.get("accuracy"));
            }
            sb.append('\n');
            calibrationMarkdown(sb, " (held out)", held.get("calibration"));
        }
        sb.append("\nerrors ")
                .append(r.get("errors"))
                .append(", elapsed ")
                .append(r.get("elapsed_s"))
                .append(" s\n");
        return sb.toString();
    }
}
