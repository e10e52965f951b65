package io.signalstream.ops;

import io.signalstream.local.LocalFlinkConfig;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/**
 * A MiniCluster (1 TaskManager, 2 slots) that reports metrics through the Prometheus reporter of
 * the bundled {@code flink-conf/config.yaml}, on a port of the test's choosing, for integration
 * tests that scrape {@code http://127.0.0.1:<port>/metrics}.
 */
public final class PrometheusMiniCluster {

    private PrometheusMiniCluster() {}

    /**
     * @param port the reporter's HTTP port on 127.0.0.1 (see {@link #freePort()})
     * @return the JUnit 5 extension to register as a static field
     */
    public static MiniClusterExtension withReporterOn(int port) {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(2)
                        .setConfiguration(reporterConf(port))
                        .build());
    }

    /** The {@code metrics.reporter.prom.*} settings of the bundled config, on {@code port}. */
    static Configuration reporterConf(int port) {
        Configuration c = new Configuration();
        LocalFlinkConfig.bundledConfig()
                .toMap()
                .forEach(
                        (k, v) -> {
                            if (k.startsWith("metrics.reporter.prom.")) {
                                c.setString(k, v);
                            }
                        });
        c.setString("metrics.reporter.prom.port", String.valueOf(port));
        return c;
    }

    /**
     * A port free on this machine now.
     *
     * @throws UncheckedIOException if no socket can be opened
     */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
