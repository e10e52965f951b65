package io.signalstream.functions;

import io.signalstream.events.ChatMessage;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.RawRecord;
import io.signalstream.serde.ChatMessageParser;
import io.signalstream.serde.MessageValidationException;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import java.time.Instant;

/**
 * Parses and validates raw input records. Valid messages go to the main output; every invalid
 * record goes to the {@link #DEAD_LETTERS} side output with the reason (see {@link
 * ChatMessageParser} for the rules), so bad input neither crashes the job nor disappears.
 */
public class ParseAndValidateFunction extends ParseOrDeadLetterFunction<ChatMessage> {

    private static final long serialVersionUID = 1L;

    /** Side output of rejected records. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    /** Stage name written in dead letters from this function. */
    public static final String STAGE = "parse";

    private final ChatMessageParser parser;

    /**
     * @param parser the validation rules
     */
    public ParseAndValidateFunction(ChatMessageParser parser) {
        super(DEAD_LETTERS, STAGE);
        this.parser = parser;
    }

    @Override
    protected ChatMessage parse(RawRecord record, Instant now) throws MessageValidationException {
        return parser.parse(record, now);
    }

    /**
     * Builds the dead letter of a raw record at stage {@value #STAGE}: the original value as UTF-8
     * text if it decodes, else base64.
     */
    public static DeadLetter deadLetter(
            RawRecord record, String errorType, String message, String tenantId, Instant now) {
        return ParseOrDeadLetterFunction.deadLetter(
                STAGE, record, errorType, message, tenantId, now);
    }
}
