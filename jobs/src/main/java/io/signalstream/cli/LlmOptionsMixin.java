package io.signalstream.cli;

import io.signalstream.config.ProviderOptions;

import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Option;

import java.time.Duration;

/**
 * {@code --provider}, {@code --llm-base-url} and {@code --llm-model}: the common case of all four
 * agents on one OpenAI-compatible provider, without a config file. The API key is read from the
 * environment variable {@code SIGNALSTREAM_LLM_API_KEY} (never from the command line).
 */
public final class LlmOptionsMixin {

    /** Agent timeout used for a remote provider unless the configuration sets one. */
    static final Duration REMOTE_AGENT_TIMEOUT = Duration.ofSeconds(60);

    @Option(
            names = "--provider",
            paramLabel = "NAME",
            description =
                    "Provider of all four agents: local (default, in-process) or openai (any"
                            + " OpenAI-compatible server). The API key is read from"
                            + " $SIGNALSTREAM_LLM_API_KEY.")
    public String provider;

    @Option(
            names = "--llm-base-url",
            paramLabel = "URL",
            description =
                    "Base URL of the provider, ending in /v1 (default https://api.openai.com/v1).")
    String baseUrl;

    @Option(
            names = "--llm-model",
            paramLabel = "NAME",
            description = "Model name (default gpt-4o-mini).")
    String model;

    /** Whether a remote provider was asked for. */
    public boolean remote() {
        return provider != null && !provider.equals("local");
    }

    /**
     * Writes the options into the configuration: every enabled agent on {@code --provider}, its
     * base URL and model, and, for a remote provider, an agent timeout and join window suited to
     * LLM latencies unless the configuration already sets them.
     */
    public void applyTo(Configuration conf) {
        if (provider == null) {
            if (baseUrl != null || model != null) {
                throw new IllegalArgumentException(
                        "--llm-base-url and --llm-model need --provider");
            }
            return;
        }
        ProviderOptions.useForAllAgents(conf, provider, baseUrl, model, REMOTE_AGENT_TIMEOUT);
    }
}
