package io.signalstream.config;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentSpec;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.List;

/**
 * Options of the agents. Per-agent options are keyed {@code signalstream.agents.<agent>.*}, e.g.
 * {@code signalstream.agents.summary.trigger: debounced}.
 */
public final class AgentOptions {

    private AgentOptions() {}

    /** The built-in agents, with bundled prompts and schemas: the default of {@link #ENABLED}. */
    public static final List<String> BUILT_IN_AGENTS = AgentSpec.BUILT_IN;

    public static final ConfigOption<List<String>> ENABLED =
            ConfigOptions.key("signalstream.agents.enabled")
                    .stringType()
                    .asList()
                    .defaultValues(BUILT_IN_AGENTS.toArray(new String[0]))
                    .withDescription(
                            "Agents to run, separated by ';': built-in ones (pii, sentiment,"
                                    + " insights, summary) and custom ones, each configured"
                                    + " under signalstream.agents.<name>.*.");

    public static final ConfigOption<Duration> TIMEOUT =
            ConfigOptions.key("signalstream.agents.timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "Async I/O timeout of one agent call, retries included; when it"
                                    + " passes the agent yields a 'timeout' result.");

    public static final ConfigOption<Integer> CAPACITY =
            ConfigOptions.key("signalstream.agents.capacity")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "In-flight requests per async operator subtask; size it by Little's"
                                    + " law: message rate × agent latency.");

    public static final ConfigOption<Integer> RETRY_MAX_ATTEMPTS =
            ConfigOptions.key("signalstream.agents.retry.max-attempts")
                    .intType()
                    .defaultValue(3)
                    .withDescription("Attempts per agent call, the first included.");

    public static final ConfigOption<Duration> RETRY_INITIAL_BACKOFF =
            ConfigOptions.key("signalstream.agents.retry.initial-backoff")
                    .durationType()
                    .defaultValue(Duration.ofMillis(200))
                    .withDescription("Backoff before the first retry; doubles per attempt.");

    public static final ConfigOption<Duration> RETRY_MAX_BACKOFF =
            ConfigOptions.key("signalstream.agents.retry.max-backoff")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(3))
                    .withDescription("Upper bound of the retry backoff.");

    public static final ConfigOption<Integer> LOCAL_THREADS =
            ConfigOptions.key("signalstream.agents.local.threads")
                    .intType()
                    .defaultValue(2)
                    .withDescription(
                            "Threads of the bounded executor that runs the local analyzers off"
                                    + " the task thread, per async operator subtask.");

    /** {@code signalstream.agents.<agent>.trigger}: every-message, customer-messages, debounced. */
    public static ConfigOption<String> trigger(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".trigger")
                .stringType()
                .defaultValue("summary".equals(agent) ? "debounced" : "customer-messages")
                .withDescription(
                        "When the agent runs: every-message, customer-messages or debounced.");
    }

    /** {@code signalstream.agents.<agent>.debounce.every-n}: run after this many messages. */
    public static ConfigOption<Integer> debounceEveryN(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".debounce.every-n")
                .intType()
                .defaultValue(3)
                .withDescription(
                        "Debounced trigger: run once this many messages arrived since the"
                                + " agent last ran.");
    }

    /** {@code signalstream.agents.<agent>.debounce.idle-gap}: run when a conversation resumes. */
    public static ConfigOption<Duration> debounceIdleGap(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".debounce.idle-gap")
                .durationType()
                .defaultValue(Duration.ofMinutes(5))
                .withDescription(
                        "Debounced trigger: run when the message follows a pause of at least"
                                + " this long (event time).");
    }

    /**
     * {@code signalstream.agents.<agent>.provider}: the provider that answers: {@code local}, or
     * the name of an OpenAI-compatible provider configured under {@code
     * signalstream.providers.<name>}.
     */
    public static ConfigOption<String> provider(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".provider")
                .stringType()
                .defaultValue("local")
                .withDescription("Provider of the agent: local or a configured provider name.");
    }

    /**
     * {@code signalstream.agents.<agent>.fallback-provider}: answers when the provider cannot;
     * {@code local} for the built-in agents, {@code none} for custom ones (the local analyzers
     * cannot answer their questions).
     */
    public static ConfigOption<String> fallbackProvider(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".fallback-provider")
                .stringType()
                .defaultValue(AgentSpec.BUILT_IN.contains(agent) ? "local" : AgentSpec.NO_FALLBACK)
                .withDescription(
                        "Provider that answers when the agent's provider gives no valid answer"
                                + " (its results say status fallback), or none.");
    }

    /**
     * {@code signalstream.agents.<agent>.prompt}: the prompt template, {@code file:<path>} or
     * {@code classpath:<resource>}; bundled for built-in agents, required for custom ones.
     */
    public static ConfigOption<String> prompt(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".prompt")
                .stringType()
                .noDefaultValue()
                .withDescription(
                        "Prompt template (file:<path> or classpath:<resource>) with a '### system'"
                                + " and a '### user' section; the file name's .vN. part is the"
                                + " prompt version.");
    }

    /** {@code signalstream.agents.<agent>.schema}: the answer's JSON schema (draft-07). */
    public static ConfigOption<String> schema(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".schema")
                .stringType()
                .noDefaultValue()
                .withDescription(
                        "JSON schema (draft-07) of the answer, file:<path> or"
                                + " classpath:<resource>; bundled for built-in agents.");
    }

    /** {@code signalstream.agents.<agent>.context}: latest-message, window or rolling-summary. */
    public static ConfigOption<String> context(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".context")
                .stringType()
                .defaultValue(AgentContext.defaultFor(agent).optionValue())
                .withDescription(
                        "What the agent sees: latest-message, window (the last N messages) or"
                                + " rolling-summary (its previous summary plus the messages"
                                + " since).");
    }

    /** {@code signalstream.agents.<agent>.window}: messages of a {@code window} context. */
    public static ConfigOption<Integer> window(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".window")
                .intType()
                .defaultValue(AgentSpec.DEFAULT_WINDOW_TURNS)
                .withDescription(
                        "Context window: how many of the latest messages the agent sees (at"
                                + " most signalstream.transcript.window).");
    }

    /** {@code signalstream.agents.<agent>.escalate}: always or when-uncertain. */
    public static ConfigOption<String> escalate(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".escalate")
                .stringType()
                .defaultValue("always")
                .withDescription(
                        "always: the provider answers; when-uncertain: the local analyzer"
                                + " answers when its confidence reaches escalate.threshold, the"
                                + " provider otherwise.");
    }

    /** {@code signalstream.agents.<agent>.escalate.threshold}: local confidence kept, [0, 1]. */
    public static ConfigOption<Double> escalateThreshold(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".escalate.threshold")
                .doubleType()
                .defaultValue(0.8)
                .withDescription(
                        "when-uncertain: the local answer's confidence at or above which it is"
                                + " kept.");
    }
}
