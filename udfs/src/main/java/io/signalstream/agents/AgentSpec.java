package io.signalstream.agents;

import io.signalstream.config.AgentOptions;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ReadableConfig;

/**
 * One agent as configured: its name, trigger and provider.
 *
 * @param name {@code pii | sentiment | insights | summary}
 * @param trigger when it runs
 * @param provider provider name: {@code local}, or an OpenAI-compatible provider configured
 *     under {@code signalstream.providers.<name>}
 * @param fallbackProvider provider that answers when {@code provider} cannot (default {@code
 *     local}); ignored when {@code provider} is {@code local}
 */
public record AgentSpec(String name, AgentTrigger trigger, String provider, String fallbackProvider)
        implements Serializable {

    /**
     * Reads the enabled agents from the configuration.
     *
     * @throws IllegalArgumentException for an unknown agent, trigger or provider
     */
    public static List<AgentSpec> fromConfig(ReadableConfig conf) {
        List<AgentSpec> specs = new ArrayList<>();
        for (String raw : conf.get(AgentOptions.ENABLED)) {
            String name = raw.trim();
            if (!AgentOptions.ALL_AGENTS.contains(name)) {
                throw new IllegalArgumentException(
                        "unknown agent '" + name + "' in signalstream.agents.enabled: use "
                                + AgentOptions.ALL_AGENTS);
            }
            AgentTrigger trigger =
                    AgentTrigger.parse(
                            conf.get(AgentOptions.trigger(name)),
                            conf.get(AgentOptions.debounceEveryN(name)),
                            conf.get(AgentOptions.debounceIdleGap(name)));
            String provider = conf.get(AgentOptions.provider(name)).trim();
            String fallback = conf.get(AgentOptions.fallbackProvider(name)).trim();
            AgentProviders.check(provider, conf);
            AgentProviders.check(fallback, conf);
            specs.add(new AgentSpec(name, trigger, provider, fallback));
        }
        return specs;
    }
}
