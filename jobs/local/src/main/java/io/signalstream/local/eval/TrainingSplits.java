package io.signalstream.local.eval;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;

/**
 * Deterministic splits by text hash, shared by {@code eval train} and {@code eval --task intent}:
 * the same text always falls on the same side, whatever the file order, and duplicates never
 * straddle a split. Also the guard that keeps evaluation-only data out of training.
 */
public final class TrainingSplits {

    /** Seed of the held-out split (part of the hashed string). */
    public static final String HELD_OUT_SEED = "signalstream-heldout-v1";

    /** Percent of Bitext held out of training, for the intent evaluation. */
    public static final int HELD_OUT_PERCENT = 30;

    /** Seed of the calibration split of the training part. */
    public static final String CALIBRATION_SEED = "signalstream-calibration-v1";

    /** Percent of the training part kept for calibration (temperature) and model selection. */
    public static final int CALIBRATION_PERCENT = 20;

    /** File names (lower case) of the evaluation-only sets: never trained on. */
    public static final List<String> EVALUATION_ONLY =
            List.of("airline-tweets-public.csv", "tweetsumm-public.jsonl");

    /**
     * Seed of the airline tweets' DEV / TEST split (evaluation only): design choices of the
     * sentiment model are made on DEV, the TEST half is the figure that counts.
     */
    public static final String AIRLINE_DEV_SEED = "signalstream-airline-dev-v1";

    private TrainingSplits() {}

    /**
     * Whether an airline tweet is in the DEV half (by a hash of its {@code tweet_id}, 50%); the
     * rest is TEST.
     *
     * @param tweetId the {@code tweet_id} column (null counts as TEST)
     */
    public static boolean airlineDev(String tweetId) {
        return tweetId != null && bucket(AIRLINE_DEV_SEED, tweetId) < 50;
    }

    /** Bucket 0..99 of a text under a seed (CRC32 of seed + normalised text). */
    static int bucket(String seed, String text) {
        CRC32 crc = new CRC32();
        crc.update(
                (seed + "\n" + text.strip().toLowerCase(Locale.ROOT))
                        .getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % 100);
    }

    /** Whether a Bitext row (by its text) is held out of training. */
    public static boolean heldOut(String text) {
        return bucket(HELD_OUT_SEED, text) < HELD_OUT_PERCENT;
    }

    /** Whether a training row (by its text) is in the calibration part. */
    public static boolean calibration(String text) {
        return bucket(CALIBRATION_SEED, text) < CALIBRATION_PERCENT;
    }

    /**
     * Refuses evaluation-only data (non-commercial licences): by file name, and by the airline
     * set's {@code airline_sentiment} column.
     *
     * @param file a file about to be read for training
     * @param header its first line (may be empty)
     * @throws IllegalArgumentException if it is evaluation-only
     */
    public static void requireTrainable(Path file, String header) {
        String name =
                file.getFileName() == null
                        ? ""
                        : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (EVALUATION_ONLY.contains(name)
                || name.contains("airline")
                || name.contains("tweetsumm")
                || (header != null && header.contains("airline_sentiment"))) {
            throw new IllegalArgumentException(
                    file
                            + " is evaluation-only data (non-commercial licence): it may be scored"
                            + " against, never trained on");
        }
    }
}
