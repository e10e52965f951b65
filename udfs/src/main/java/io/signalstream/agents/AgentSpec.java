package io.signalstream.agents;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * One agent as configured: what it asks (prompt template and answer schema), when (trigger), with
 * what context, and who answers (provider, fallback provider, local-first escalation).
 *
 * <p>The prompt and schema are carried as text, read once when the job is built ({@code file:} or
 * {@code classpath:} locations), so TaskManagers need no access to the files and a running job is
 * not affected when they change. {@code null} means the bundled file of a built-in agent.
 *
 * @param name agent name, {@code [a-z0-9][a-z0-9_-]*}; the built-in ones are {@link #BUILT_IN}
 * @param trigger when it runs
 * @param provider provider name: {@code local}, or an OpenAI-compatible provider configured under
 *     {@code signalstream.providers.<name>}
 * @param fallbackProvider provider that answers when {@code provider} cannot; {@code none} (or
 *     null) for no fallback; ignored when {@code provider} is {@code local}
 * @param context what the agent sees of the conversation
 * @param windowTurns {@link AgentContext#WINDOW}: how many of the latest messages (at least 1)
 * @param escalation whether the local analyzer answers first
 * @param escalationThreshold {@link Escalation#WHEN_UNCERTAIN}: the local answer's {@code
 *     confidence} at or above which it is kept, in [0, 1]
 * @param promptTemplate the prompt template text ({@code ### system} and {@code ### user}
 *     sections), or null for the bundled one of a built-in agent
 * @param schema the JSON schema (draft-07) of the answer as text, or null for the bundled one
 * @param promptLabel version label of the template, e.g. {@code v2} (from its file name)
 */
public record AgentSpec(
        String name,
        AgentTrigger trigger,
        String provider,
        String fallbackProvider,
        AgentContext context,
        int windowTurns,
        Escalation escalation,
        double escalationThreshold,
        String promptTemplate,
        String schema,
        String promptLabel)
        implements Serializable {

    /** The agents the {@code local} provider can answer, with bundled prompts and schemas. */
    public static final List<String> BUILT_IN = List.of("pii", "sentiment", "insights", "summary");

    /** Fallback provider value meaning: no fallback. */
    public static final String NO_FALLBACK = "none";

    public AgentSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(provider, "provider");
        if (context == null) {
            context = AgentContext.defaultFor(name);
        }
        if (escalation == null) {
            escalation = Escalation.ALWAYS;
        }
        if (windowTurns < 1) {
            throw new IllegalArgumentException(
                    "agent " + name + ": window must be >= 1, got " + windowTurns);
        }
        if (!(escalationThreshold >= 0 && escalationThreshold <= 1)) {
            throw new IllegalArgumentException(
                    "agent "
                            + name
                            + ": escalation confidence threshold must be in [0, 1], got "
                            + escalationThreshold);
        }
        if (promptLabel == null) {
            promptLabel = DEFAULT_PROMPT_LABEL;
        }
    }

    /** Label of the bundled prompt templates. */
    public static final String DEFAULT_PROMPT_LABEL = "v2";

    /** Default {@link #windowTurns()}. */
    public static final int DEFAULT_WINDOW_TURNS = 3;

    /**
     * A built-in agent with its bundled prompt and schema, default context, no escalation.
     *
     * @param name a name of {@link #BUILT_IN} (custom agents need a prompt and schema)
     */
    public AgentSpec(String name, AgentTrigger trigger, String provider, String fallbackProvider) {
        this(
                name,
                trigger,
                provider,
                fallbackProvider,
                null,
                DEFAULT_WINDOW_TURNS,
                Escalation.ALWAYS,
                0.8,
                null,
                null,
                null);
    }

    /** Whether this is one of the {@link #BUILT_IN} agents. */
    public boolean builtIn() {
        return BUILT_IN.contains(name);
    }

    /** Whether a fallback provider answers when the provider cannot. */
    public boolean hasFallback() {
        return fallbackProvider != null
                && !NO_FALLBACK.equals(fallbackProvider)
                && !fallbackProvider.equals(provider);
    }
}
