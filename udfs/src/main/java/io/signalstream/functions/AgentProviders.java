package io.signalstream.functions;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.Escalation;
import io.signalstream.agents.FallbackAgentProvider;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.llm.AgentPrompt;
import io.signalstream.llm.OpenAiProvider;
import io.signalstream.llm.ProviderSettings;

import org.apache.flink.configuration.ReadableConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
     * Reads the enabled agents from the configuration, loads their prompts and schemas and checks
     * that each can be answered.
     *
     * @throws IllegalArgumentException naming the agent and the option for an unknown name, a
     *     missing or unreadable prompt or schema, an invalid trigger, context or provider, or an
     *     agent the {@code local} provider would have to answer but cannot
     */
    public static List<AgentSpec> specs(ReadableConfig conf) {
        List<AgentSpec> specs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String raw : conf.get(AgentOptions.ENABLED)) {
            String name = raw.trim();
            if (name.isEmpty()) {
                continue;
            }
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(
                        "invalid agent name '"
                                + name
                                + "' in signalstream.agents.enabled: use lowercase letters,"
                                + " digits, '_' and '-'");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException(
                        "agent '" + name + "' is named twice in signalstream.agents.enabled");
            }
            specs.add(spec(name, conf));
        }
        return specs;
    }

    private static AgentSpec spec(String name, ReadableConfig conf) {
        boolean builtIn = AgentSpec.BUILT_IN.contains(name);
        AgentTrigger trigger =
                AgentTrigger.parse(
                        conf.get(AgentOptions.trigger(name)),
                        conf.get(AgentOptions.debounceEveryN(name)),
                        conf.get(AgentOptions.debounceIdleGap(name)));
        String provider = conf.get(AgentOptions.provider(name)).trim();
        String fallback = conf.get(AgentOptions.fallbackProvider(name)).trim();
        check(provider, conf);
        if (!AgentSpec.NO_FALLBACK.equals(fallback)) {
            check(fallback, conf);
        }
        AgentContext context = AgentContext.parse(conf.get(AgentOptions.context(name)));
        Escalation escalation = Escalation.parse(conf.get(AgentOptions.escalate(name)));
        String promptLocation =
                conf.getOptional(AgentOptions.prompt(name))
                        .orElse(builtIn ? AgentPrompt.bundledPrompt(name) : null);
        String schemaLocation =
                conf.getOptional(AgentOptions.schema(name))
                        .orElse(builtIn ? AgentPrompt.bundledSchema(name) : null);
        if (promptLocation == null || schemaLocation == null) {
            throw new IllegalArgumentException(
                    "agent '"
                            + name
                            + "' is not built in: set signalstream.agents."
                            + name
                            + (promptLocation == null ? ".prompt" : ".schema")
                            + " (file:<path> or classpath:<resource>)");
        }
        if (!builtIn && LocalAgentProvider.NAME.equals(provider)) {
            // Skipped results only when asked for: fallback-provider none, set explicitly.
            if (!AgentSpec.NO_FALLBACK.equals(
                    conf.getOptional(AgentOptions.fallbackProvider(name)).orElse(null))) {
                throw new IllegalArgumentException(
                        "agent '"
                                + name
                                + "': the local provider answers only "
                                + AgentSpec.BUILT_IN
                                + "; set signalstream.agents."
                                + name
                                + ".provider to an LLM provider, or set its fallback-provider to"
                                + " none to have its results skipped");
            }
        } else if (!builtIn && LocalAgentProvider.NAME.equals(fallback)) {
            throw new IllegalArgumentException(
                    "agent '"
                            + name
                            + "': the local provider cannot be its fallback (it answers only "
                            + AgentSpec.BUILT_IN
                            + "); set signalstream.agents."
                            + name
                            + ".fallback-provider to none or another LLM provider");
        }
        if (escalation == Escalation.WHEN_UNCERTAIN
                && !"sentiment".equals(name)
                && !"insights".equals(name)) {
            throw new IllegalArgumentException(
                    "agent '"
                            + name
                            + "': escalate when-uncertain needs a local answer with a"
                            + " confidence, which only sentiment and insights have; use always");
        }
        AgentSpec spec =
                new AgentSpec(
                        name,
                        trigger,
                        provider,
                        fallback,
                        context,
                        conf.get(AgentOptions.window(name)),
                        escalation,
                        conf.get(AgentOptions.escalateThreshold(name)),
                        AgentPrompt.read(promptLocation, "signalstream.agents." + name + ".prompt"),
                        AgentPrompt.read(schemaLocation, "signalstream.agents." + name + ".schema"),
                        AgentPrompt.label(promptLocation));
        AgentPrompt.of(spec); // fails now for a template without sections or a schema not JSON
        return spec;
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
        return create(List.of(spec), conf);
    }

    /**
     * Creates the provider of a group of agents on the same provider (each agent keeps its own
     * fallback provider, or none); called in the async operator's {@code open()}.
     *
     * @param group the agents, all naming the same provider
     * @param conf the job configuration
     * @throws IllegalArgumentException for invalid provider settings or a group that mixes
     *     providers
     */
    public static AgentProvider create(List<AgentSpec> group, ReadableConfig conf) {
        String provider = group.get(0).provider();
        for (AgentSpec a : group) {
            if (!a.provider().equals(provider)) {
                throw new IllegalArgumentException(
                        "agents of one operator must share a provider: " + group);
            }
        }
        AgentProvider primary = single(provider, conf, group);
        if (LocalAgentProvider.NAME.equals(provider)) {
            return primary;
        }
        Map<String, AgentProvider> byName = new HashMap<>();
        Map<String, AgentProvider> fallbacks = new HashMap<>();
        for (AgentSpec a : group) {
            if (a.hasFallback()) {
                fallbacks.put(
                        a.name(),
                        byName.computeIfAbsent(a.fallbackProvider(), p -> single(p, conf, group)));
            }
        }
        return fallbacks.isEmpty() ? primary : new FallbackAgentProvider(primary, fallbacks);
    }

    private static AgentProvider single(
            String provider, ReadableConfig conf, List<AgentSpec> group) {
        check(provider, conf);
        if (LocalAgentProvider.NAME.equals(provider)) {
            return new LocalAgentProvider(conf.get(AgentOptions.LOCAL_THREADS));
        }
        return new OpenAiProvider(ProviderSettings.from(conf, provider), group);
    }
}
