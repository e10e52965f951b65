package io.signalstream.events;

import java.time.Instant;

/**
 * A record the job could not process, published on {@code support.dlq} with the reason.
 *
 * @param stage the pipeline stage that rejected it, e.g. {@code parse}
 * @param errorType a stable machine-readable reason, e.g. {@code malformed_json}, {@code
 *     missing_field}
 * @param errorMessage a human-readable explanation naming the field and the rule
 * @param source Kafka coordinates of the rejected record
 * @param tenantId the tenant if it could be read, else {@code null}
 * @param original the original value: UTF-8 text, or base64 if it was not valid UTF-8
 * @param originalEncoding {@code utf8}, {@code base64} or {@code null} (null Kafka value)
 * @param timestamp when it was rejected (UTC)
 */
public record DeadLetter(
        String stage,
        String errorType,
        String errorMessage,
        SourceRef source,
        String tenantId,
        String original,
        String originalEncoding,
        Instant timestamp) {}
