package io.signalstream.functions;

import io.signalstream.events.DeadLetter;
import io.signalstream.events.Feedback;
import io.signalstream.events.RawRecord;
import io.signalstream.serde.FeedbackParser;
import io.signalstream.serde.MessageValidationException;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Parses and validates raw {@code support.feedback} records. Valid feedback goes to the main
 * output; every invalid record goes to the {@link #DEAD_LETTERS} side output with its reason (see
 * {@link FeedbackParser} for the rules) and stage {@value #STAGE}, like {@link
 * ParseAndValidateFunction} does for messages. Metric: {@code dead_letters.reason.<r>.count}.
 */
public class ParseFeedbackFunction extends ProcessFunction<RawRecord, Feedback> {

    private static final long serialVersionUID = 1L;

    /** Side output of rejected feedback records. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("feedback-dead-letters", TypeInformation.of(DeadLetter.class));

    /** Stage name written in dead letters from this function. */
    public static final String STAGE = "feedback";

    private final FeedbackParser parser;
    private transient MetricGroup deadLetterMetrics;
    private transient Map<String, Counter> deadLettersByReason;

    /**
     * @param parser the validation rules
     */
    public ParseFeedbackFunction(FeedbackParser parser) {
        this.parser = parser;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetterMetrics = getRuntimeContext().getMetricGroup().addGroup("dead_letters");
        deadLettersByReason = new HashMap<>();
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<Feedback> out) {
        Instant now = Instant.ofEpochMilli(ctx.timerService().currentProcessingTime());
        try {
            out.collect(parser.parse(record, now));
        } catch (MessageValidationException e) {
            reject(record, e.errorType(), e.getMessage(), e.tenantId(), now, ctx);
        } catch (RuntimeException e) {
            // A bug in validation must not lose the record either.
            reject(record, "internal_error", e.toString(), null, now, ctx);
        }
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
        DeadLetter d = ParseAndValidateFunction.deadLetter(record, reason, message, tenant, now);
        ctx.output(
                DEAD_LETTERS,
                new DeadLetter(
                        STAGE,
                        d.errorType(),
                        d.errorMessage(),
                        d.source(),
                        d.tenantId(),
                        d.original(),
                        d.originalEncoding(),
                        d.timestamp()));
    }
}
