package io.signalstream.cli;

import io.signalstream.jobs.JobConfigLoader;

import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --config FILE} and {@code -D key=value}, shared by the commands. */
public final class ConfigOptionsMixin {

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description =
                    "Flink config.yaml (or a directory holding one) with job and Flink options.")
    Path configFile;

    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            description = "Set a configuration option, e.g. -D signalstream.agents.timeout=5s.")
    Map<String, String> overrides = new LinkedHashMap<>();

    /**
     * The configuration from the file and the overrides.
     *
     * @throws IOException when the file cannot be read
     */
    public Configuration load() throws IOException {
        return JobConfigLoader.load(configFile, overrides);
    }
}
