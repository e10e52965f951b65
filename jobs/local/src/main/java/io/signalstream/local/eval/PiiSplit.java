package io.signalstream.local.eval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deterministic split of the Presidio PII sentences by a hash of their text: {@value
 * #HELD_OUT_PERCENT}% held out for evaluation, and of the rest {@value #CALIBRATION_PERCENT}% for
 * calibrating confidence, the remainder for fitting the model. Equal texts always land in the same
 * part, so the parts share no sentence.
 */
public final class PiiSplit {

    /** Seed mixed into the hash; changing it draws another split. */
    public static final String SEED = "signalstream-pii-split-v1";

    /** Share of sentences held out for evaluation, in percent. */
    public static final int HELD_OUT_PERCENT = 30;

    /** Share of the training sentences kept for calibration, in percent. */
    public static final int CALIBRATION_PERCENT = 20;

    /** The part of the data a sentence belongs to. */
    public enum Part {
        /** Fits the model. */
        FIT,
        /** Calibrates confidence (part of the training split, never fitted on). */
        CALIBRATION,
        /** Evaluation only. */
        HELD_OUT
    }

    private PiiSplit() {}

    /** The part {@code text} belongs to. */
    public static Part of(String text) {
        if (bucket("eval", text) < HELD_OUT_PERCENT) {
            return Part.HELD_OUT;
        }
        return bucket("calibration", text) < CALIBRATION_PERCENT ? Part.CALIBRATION : Part.FIT;
    }

    /** True if {@code text} is in the held-out evaluation part. */
    public static boolean isHeldOut(String text) {
        return of(text) == Part.HELD_OUT;
    }

    private static int bucket(String salt, String text) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] h =
                    sha.digest(
                            (SEED + '\u0000' + salt + '\u0000' + text)
                                    .getBytes(StandardCharsets.UTF_8));
            int v =
                    ((h[0] & 0xff) << 24)
                            | ((h[1] & 0xff) << 16)
                            | ((h[2] & 0xff) << 8)
                            | (h[3] & 0xff);
            return Integer.remainderUnsigned(v, 100);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
