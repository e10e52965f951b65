package io.signalstream.agents;

import java.util.Map;

/**
 * What a call knows beyond the snapshot: the previous answers of rolling-summary agents for the
 * conversation, by agent name.
 *
 * @param priors previous answer per agent (absent: none known)
 */
public record CallContext(Map<String, Prior> priors) {

    /** No previous answers. */
    public static final CallContext NONE = new CallContext(Map.of());

    public CallContext {
        priors = priors == null ? Map.of() : Map.copyOf(priors);
    }

    /** The previous answer of an agent, or null. */
    public Prior prior(String agent) {
        return priors.get(agent);
    }

    /**
     * A previous answer.
     *
     * @param version the conversation version it answered
     * @param text its {@code summary} field, or the whole answer as JSON when it has none
     */
    public record Prior(long version, String text) {}
}
