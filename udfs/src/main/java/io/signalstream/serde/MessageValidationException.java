package io.signalstream.serde;

/**
 * Thrown by {@link ChatMessageParser} when an input record is not a valid chat message. {@link
 * #errorType()} is the stable reason written to the dead-letter queue.
 */
public final class MessageValidationException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String errorType;
    private final String tenantId;

    /**
     * @param errorType stable reason, e.g. {@code missing_field}
     * @param message human-readable explanation naming the field and rule
     * @param tenantId the tenant if it could be read, else null
     */
    public MessageValidationException(String errorType, String message, String tenantId) {
        super(message);
        this.errorType = errorType;
        this.tenantId = tenantId;
    }

    /** The stable reason, e.g. {@code malformed_json}. */
    public String errorType() {
        return errorType;
    }

    /** The tenant id if it was readable, else {@code null}. */
    public String tenantId() {
        return tenantId;
    }
}
