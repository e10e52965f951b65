package io.signalstream.functions;

import io.signalstream.events.DeadLetter;
import io.signalstream.events.Feedback;
import io.signalstream.events.RawRecord;
import io.signalstream.serde.FeedbackParser;
import io.signalstream.serde.MessageValidationException;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import java.time.Instant;

/**
 * Parses and validates raw {@code support.feedback} records. Valid feedback goes to the main
 * output; every invalid record goes to the {@link #DEAD_LETTERS} side output with its reason (see
 * {@link FeedbackParser} for the rules) and stage {@value #STAGE}, like {@link
 * ParseAndValidateFunction} does for messages. Metric: {@code dead_letters.reason.<r>.count}.
 */
public class ParseFeedbackFunction extends ParseOrDeadLetterFunction<Feedback> {

    private static final long serialVersionUID = 1L;

    /** Side output of rejected feedback records. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("feedback-dead-letters", TypeInformation.of(DeadLetter.class));

    /** Stage name written in dead letters from this function. */
    public static final String STAGE = "feedback";

    private final FeedbackParser parser;

    /**
     * @param parser the validation rules
     */
    public ParseFeedbackFunction(FeedbackParser parser) {
        super(DEAD_LETTERS, STAGE);
        this.parser = parser;
    }

    @Override
    protected Feedback parse(RawRecord record, Instant now) throws MessageValidationException {
        return parser.parse(record, now);
    }
}
