package io.signalstream.functions;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.FallbackAgentProvider;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.llm.OpenAiProvider;
import io.signalstream.llm.ProviderSettings;

import org.apache.flink.configuration.ReadableConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Creates providers by name: {@code local} is the in-process analyzers; any other name is an
 * OpenAI-compatible server configured under {@code signalstream.providers.<name>.*}, wrapped so
 * that the agent's fallback provider answers when it cannot.
 */
public final class AgentProviders {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,39}");

    private AgentProviders() {}

    /**
     * Reads the enabled agents from the configuration and checks their providers.
     *
     * @throws IllegalArgumentException for an unknown agent, trigger or provider
     */
    public static List<AgentSpec> specs(ReadableConfig conf) {
        List<AgentSpec> specs = new ArrayList<>();
        for (String raw : conf.get(AgentOptions.ENABLED)) {
            String name = raw.trim();
            if (!AgentOptions.ALL_AGENTS.contains(name)) {
                throw new IllegalArgumentException(
                        "unknown agent '"
                                + name
                                + "' in signalstream.agents.enabled: use "
                                + AgentOptions.ALL_AGENTS);
            }
            AgentTrigger trigger =
                    AgentTrigger.parse(
                            conf.get(AgentOptions.trigger(name)),
                            conf.get(AgentOptions.debounceEveryN(name)),
                            conf.get(AgentOptions.debounceIdleGap(name)));
            String provider = conf.get(AgentOptions.provider(name)).trim();
            String fallback = conf.get(AgentOptions.fallbackProvider(name)).trim();
            check(provider, conf);
            check(fallback, conf);
            specs.add(new AgentSpec(name, trigger, provider, fallback));
        }
        return specs;
    }

    /**
     * Fails early, at job build time, for a provider name or settings that cannot work.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static void check(String provider, ReadableConfig conf) {
        if (!NAME.matcher(provider).matches()) {
            throw new IllegalArgumentException(
                    "invalid agent provider name '"
                            + provider
                            + "': use local, or a lowercase name configured under"
                            + " signalstream.providers.<name>");
        }
        if (!LocalAgentProvider.NAME.equals(provider)) {
            ProviderSettings.from(conf, provider);
        }
    }

    /**
     * Creates the provider of an agent; called in the async operator's {@code open()}.
     *
     * @param spec the agent, naming its provider and fallback provider
     * @param conf the job configuration
     * @throws IllegalArgumentException for invalid provider settings
     */
    public static AgentProvider create(AgentSpec spec, ReadableConfig conf) {
        AgentProvider primary = single(spec.provider(), conf);
        if (LocalAgentProvider.NAME.equals(spec.provider())
                || spec.fallbackProvider() == null
                || spec.fallbackProvider().equals(spec.provider())) {
            return primary;
        }
        return new FallbackAgentProvider(primary, single(spec.fallbackProvider(), conf));
    }

    private static AgentProvider single(String provider, ReadableConfig conf) {
        check(provider, conf);
        if (LocalAgentProvider.NAME.equals(provider)) {
            return new LocalAgentProvider(conf.get(AgentOptions.LOCAL_THREADS));
        }
        return new OpenAiProvider(ProviderSettings.from(conf, provider));
    }
}
