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
 * @param provider provider name (only {@code local} so far)
 */
public record AgentSpec(String name, AgentTrigger trigger, String provider) implements Serializable {

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
            String provider = conf.get(AgentOptions.provider(name));
            AgentProviders.checkKnown(provider);
            specs.add(new AgentSpec(name, trigger, provider));
        }
        return specs;
    }
}
