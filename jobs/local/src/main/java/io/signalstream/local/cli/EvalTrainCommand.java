package io.signalstream.local.cli;

import io.signalstream.local.eval.ModelTrainer;
import io.signalstream.serde.Json;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code eval train}: trains the learned local sentiment and intent models ({@link ModelTrainer})
 * and writes them where the {@code local} provider reads them from.
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = {
            "Train the local provider's learned sentiment and intent models (logistic regression"
                + " with a calibrated softmax temperature) from the shipping-licensed sets under"
                + " --data-dir: the VADER tweet ratings, Bitext's training split (70%% by text"
                + " hash; the rest is held out for eval --task intent) and BANKING77. The"
                + " evaluation-only sets (airline tweets, TweetSumm) are refused.",
            "Writes sentiment-v1.json.gz and intent-v1.json.gz to --out and the training report"
                    + " to --report."
        })
public final class EvalTrainCommand implements Callable<Integer> {

    @Option(
            names = "--data-dir",
            defaultValue = "../shared/data",
            paramLabel = "DIR",
            description = "The shared data directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--out",
            defaultValue = "udfs/src/main/resources/models",
            paramLabel = "DIR",
            description = "Where to write the models (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--report",
            paramLabel = "FILE",
            description = "Training report (JSON) to write, optional.")
    Path report;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(dataDir)) {
            System.err.println("error: no data directory " + dataDir);
            return 2;
        }
        Map<String, Object> r;
        try {
            r = new ModelTrainer(dataDir, System.out).trainAll(out);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        } catch (java.nio.file.NoSuchFileException e) {
            System.err.println("error: missing data file " + e.getFile());
            return 2;
        }
        String json = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r);
        if (report != null) {
            Files.writeString(report, json);
        }
        System.out.println(json);
        return 0;
    }
}
