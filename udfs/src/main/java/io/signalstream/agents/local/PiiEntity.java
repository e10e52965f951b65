package io.signalstream.agents.local;

import java.util.Objects;

/**
 * One personally identifiable information (PII) finding in an analysed text.
 *
 * @param type entity type, one of the Presidio names {@code EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE,
 *     PHONE_NUMBER, US_SSN, IP_ADDRESS, PERSON, STREET_ADDRESS, GPE} (see {@link PiiDetector})
 * @param start start offset in UTF-16 chars into the analysed text, inclusive
 * @param end end offset in UTF-16 chars into the analysed text, exclusive
 * @param score confidence in [0, 1]: for the learned types the precision measured at this
 *     probability on a calibration split, for the others the fixed per-recognizer values documented
 *     on {@link PiiDetector}
 * @param text the matched text, equal to {@code analysedText.substring(start, end)}
 */
public record PiiEntity(String type, int start, int end, double score, String text) {

    /**
     * Validates the components.
     *
     * @throws NullPointerException if {@code type} or {@code text} is null
     * @throws IllegalArgumentException if {@code start < 0}, {@code end <= start} or the score is
     *     outside [0, 1]
     */
    public PiiEntity {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(text, "text");
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("invalid span [" + start + ", " + end + ")");
        }
        if (!(score >= 0.0 && score <= 1.0)) {
            throw new IllegalArgumentException("score outside [0, 1]: " + score);
        }
    }

    /** Returns the span length in chars, {@code end - start}. */
    public int length() {
        return end - start;
    }

    /** Returns true if this span shares at least one char with {@code other}. */
    public boolean overlaps(PiiEntity other) {
        return start < other.end && other.start < end;
    }
}
