package io.signalstream.local.cli;

import io.signalstream.local.eval.PiiNerTrainer;
import io.signalstream.serde.Json;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code eval train-pii}: trains the local PII name finder (PERSON, STREET_ADDRESS, GPE) and its
 * calibration, see {@link PiiNerTrainer}. Kept apart from the sentiment/intent training command.
 */
@Command(
        name = "train-pii",
        mixinStandardHelpOptions = true,
        description = {
            "Train the local PII name finder (PERSON, STREET_ADDRESS, GPE; Apache OpenNLP) on the"
                    + " Presidio synthetic set: fit on 70%% minus a calibration fifth, calibrate"
                    + " confidence on that fifth, score on the held-out 30%% (split by a hash of"
                    + " each sentence, seed in PiiSplit).",
            "Writes pii-ner-en.bin and pii-ner-en.calibration.json to --out (the shipped ones live"
                    + " in udfs/src/main/resources/models/) and prints the held-out scores."
        })
public final class TrainPiiCommand implements Callable<Integer> {

    @Option(
            names = "--data",
            required = true,
            paramLabel = "FILE",
            description = "Presidio JSON (../shared/data/pii/presidio-synth-v2.json).")
    Path data;

    @Option(
            names = "--negatives",
            paramLabel = "CSV:COLUMN:EVERY",
            description =
                    "Sentences without PII to add to the fit part: every EVERY-th row's COLUMN of"
                            + " the CSV (repeatable; e.g."
                            + " ../shared/data/intent/banking77-train.csv:text:12 and"
                            + " ../shared/data/intent/bitext-public.csv:response:20).")
    List<String> negatives = new ArrayList<>();

    @Option(
            names = "--vocabulary",
            paramLabel = "FILE",
            description =
                    "Text files whose lower-case words (seen twice or more) make the common-word"
                            + " list: a person's name made only of common words is dropped"
                            + " (repeatable; e.g."
                            + " ../shared/data/sentiment/vader-tweets-groundtruth.tsv).")
    List<Path> vocabulary = new ArrayList<>();

    @Option(
            names = "--out",
            defaultValue = "udfs/src/main/resources/models",
            paramLabel = "DIR",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the report as JSON.")
    Path report;

    @Override
    public Integer call() throws Exception {
        if (!Files.isReadable(data)) {
            System.err.println("error: cannot read --data " + data);
            return 2;
        }
        List<PiiNerTrainer.Sentence> sentences = new ArrayList<>();
        List<String> about = new ArrayList<>();
        for (String n : negatives) {
            String[] p = n.split(":");
            if (p.length != 3 || !Files.isReadable(Path.of(p[0]))) {
                System.err.println(
                        "error: --negatives " + n + " is not a readable CSV:COLUMN:EVERY");
                return 2;
            }
            sentences.addAll(
                    PiiNerTrainer.readNegatives(Path.of(p[0]), p[1], Integer.parseInt(p[2])));
            about.add(Path.of(p[0]).getFileName() + " column " + p[1] + " every " + p[2] + " rows");
        }
        Map<String, Object> r =
                PiiNerTrainer.train(
                        data, sentences, String.join("; ", about), vocabulary, out, System.out);
        String json = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r);
        System.out.println(json);
        if (report != null) {
            Files.writeString(report, json);
        }
        System.out.println("Model written to " + out);
        return 0;
    }
}
