package io.signalstream.functions;

import io.signalstream.events.DeadLetter;
import io.signalstream.events.RawRecord;
import io.signalstream.serde.ChatMessageParser;
import io.signalstream.serde.MessageValidationException;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Parses each raw record with {@link #parse}: a valid result goes to the main output, an invalid
 * record goes to a dead-letter side output with its reason and stage, so bad input neither crashes
 * the job nor disappears. A {@link RuntimeException} from {@link #parse} (a bug in validation)
 * becomes a dead letter of reason {@code internal_error}. Metric: {@code
 * dead_letters.reason.<reason>.count}.
 *
 * <p>The main output is collected outside the try block: a failure of a chained downstream operator
 * fails the task (and replays from the checkpoint) instead of turning a valid record into a dead
 * letter.
 *
 * @param <T> the parsed event type
 */
public abstract class ParseOrDeadLetterFunction<T> extends ProcessFunction<RawRecord, T> {

    private static final long serialVersionUID = 1L;

    private final OutputTag<DeadLetter> deadLetters;
    private final String stage;
    private transient MetricGroup deadLetterMetrics;
    private transient Map<String, Counter> deadLettersByReason;

    /**
     * @param deadLetters the side output of rejected records
     * @param stage the stage name written in the dead letters
     */
    protected ParseOrDeadLetterFunction(OutputTag<DeadLetter> deadLetters, String stage) {
        this.deadLetters = deadLetters;
        this.stage = stage;
    }

    /**
     * Parses and validates one record.
     *
     * @param record the raw Kafka record
     * @param now the processing time
     * @return the valid event
     * @throws MessageValidationException with the reason when the record is not valid
     */
    protected abstract T parse(RawRecord record, Instant now) throws MessageValidationException;

    @Override
    public void open(OpenContext openContext) {
        deadLetterMetrics = getRuntimeContext().getMetricGroup().addGroup("dead_letters");
        deadLettersByReason = new HashMap<>();
    }

    @Override
    public final void processElement(RawRecord record, Context ctx, Collector<T> out) {
        Instant now = Instant.ofEpochMilli(ctx.timerService().currentProcessingTime());
        T parsed;
        try {
            parsed = parse(record, now);
        } catch (MessageValidationException e) {
            reject(record, e.errorType(), e.getMessage(), e.tenantId(), now, ctx);
            return;
        } catch (RuntimeException e) {
            // A bug in validation must not lose the record either.
            reject(record, "internal_error", e.toString(), null, now, ctx);
            return;
        }
        // Outside the try: a failure of a chained downstream operator must fail the task (and
        // replay from the checkpoint), not turn a valid record into a dead letter.
        out.collect(parsed);
    }

    private void reject(
            RawRecord record,
            String reason,
            String message,
            String tenant,
            Instant now,
            Context ctx) {
        deadLettersByReason
                .computeIfAbsent(
                        reason, r -> deadLetterMetrics.addGroup("reason", r).counter("count"))
                .inc();
        ctx.output(deadLetters, deadLetter(stage, record, reason, message, tenant, now));
    }

    /**
     * Builds the dead letter of a raw record: the original value as UTF-8 text if it decodes, else
     * base64; no original when the value is null.
     *
     * @param stage the stage that rejected the record
     * @param record the rejected record
     * @param errorType the stable reason, e.g. {@code malformed_json}
     * @param message the human-readable explanation
     * @param tenantId the tenant if it could be read, else {@code null}
     * @param now the processing time, the dead letter's timestamp
     * @return the dead letter
     */
    public static DeadLetter deadLetter(
            String stage,
            RawRecord record,
            String errorType,
            String message,
            String tenantId,
            Instant now) {
        String original = null;
        String encoding = null;
        if (record.value() != null) {
            original = ChatMessageParser.strictUtf8(record.value());
            encoding = "utf8";
            if (original == null) {
                original = Base64.getEncoder().encodeToString(record.value());
                encoding = "base64";
            }
        }
        return new DeadLetter(
                stage, errorType, message, record.source(), tenantId, original, encoding, now);
    }
}
