package io.signalstream.agents;

/**
 * A provider call that did not produce a valid answer. {@link #reason()} is the short cause written
 * into the fallback result's {@code error}.
 */
public final class ProviderException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int attempts;

    /**
     * @param reason short cause, e.g. {@code "HTTP 401: invalid api key"}
     * @param attempts HTTP attempts made
     */
    public ProviderException(String reason, int attempts) {
        super(reason, null, false, false);
        this.attempts = attempts;
    }

    /** The short cause. */
    public String reason() {
        return getMessage();
    }

    /** HTTP attempts made before giving up. */
    public int attempts() {
        return attempts;
    }
}
