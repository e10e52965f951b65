package io.signalstream.functions;

import io.signalstream.events.ChatMessage;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.RawRecord;
import io.signalstream.serde.ChatMessageParser;
import io.signalstream.serde.MessageValidationException;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
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
 * Parses and validates raw input records. Valid messages go to the main output; every invalid
 * record goes to the {@link #DEAD_LETTERS} side output with the reason (see {@link
 * ChatMessageParser} for the rules), so bad input neither crashes the job nor disappears.
 */
public class ParseAndValidateFunction extends ProcessFunction<RawRecord, ChatMessage> {

    private static final long serialVersionUID = 1L;

    /** Side output of rejected records. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    /** Stage name written in dead letters from this function. */
    public static final String STAGE = "parse";

    private final ChatMessageParser parser;
    private transient MetricGroup deadLetterMetrics;
    private transient Map<String, Counter> deadLettersByReason;

    /**
     * @param parser the validation rules
     */
    public ParseAndValidateFunction(ChatMessageParser parser) {
        this.parser = parser;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetterMetrics = getRuntimeContext().getMetricGroup().addGroup("dead_letters");
        deadLettersByReason = new HashMap<>();
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<ChatMessage> out) {
        Instant now = Instant.ofEpochMilli(ctx.timerService().currentProcessingTime());
        ChatMessage message;
        try {
            message = parser.parse(record, now);
        } catch (MessageValidationException e) {
            count(e.errorType());
            ctx.output(
                    DEAD_LETTERS,
                    deadLetter(record, e.errorType(), e.getMessage(), e.tenantId(), now));
            return;
        } catch (RuntimeException e) {
            // A bug in validation must not lose the record either.
            count("internal_error");
            ctx.output(DEAD_LETTERS, deadLetter(record, "internal_error", e.toString(), null, now));
            return;
        }
        // Outside the try: a failure of a chained downstream operator must fail the task (and
        // replay from the checkpoint), not turn a valid message into a dead letter.
        out.collect(message);
    }

    private void count(String reason) {
        deadLettersByReason
                .computeIfAbsent(
                        reason, r -> deadLetterMetrics.addGroup("reason", r).counter("count"))
                .inc();
    }

    /**
     * Builds the dead letter of a raw record: the original value as UTF-8 text if it decodes, else
     * base64.
     */
    public static DeadLetter deadLetter(
            RawRecord record, String errorType, String message, String tenantId, Instant now) {
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
                STAGE, errorType, message, record.source(), tenantId, original, encoding, now);
    }
}
