package io.signalstream.agents;

import java.util.Set;
import org.apache.flink.configuration.ReadableConfig;

/** Creates providers by name. */
public final class AgentProviders {

    /** Providers this build knows. */
    public static final Set<String> KNOWN = Set.of(LocalAgentProvider.NAME);

    private AgentProviders() {}

    /**
     * Fails early, at job build time, for a provider name this build does not know.
     *
     * @throws IllegalArgumentException naming the known providers
     */
    public static void checkKnown(String provider) {
        if (!KNOWN.contains(provider)) {
            throw new IllegalArgumentException(
                    "unknown agent provider '" + provider + "': use one of " + KNOWN);
        }
    }

    /**
     * Creates a provider; called in the async operator's {@code open()}.
     *
     * @param provider provider name
     * @param conf the job configuration
     * @throws IllegalArgumentException for an unknown provider
     */
    public static AgentProvider create(String provider, ReadableConfig conf) {
        checkKnown(provider);
        return new LocalAgentProvider(conf.get(io.signalstream.config.AgentOptions.LOCAL_THREADS));
    }
}
