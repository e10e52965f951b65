package io.signalstream.jobs.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.AuthenticationException;

import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks, before a job is submitted, that Kafka can be reached and the credentials are accepted, so
 * a wrong password is one clear error instead of a job that restarts forever.
 */
public final class KafkaPreflight {

    private KafkaPreflight() {}

    /**
     * Connects with the given client properties and asks for the cluster's nodes.
     *
     * @param bootstrapServers Kafka bootstrap servers
     * @param clientProperties client properties (security)
     * @param timeoutSeconds how long to wait
     * @throws IllegalStateException saying "authentication failed" (with the broker's reason, the
     *     mechanism and the user, never the password) or "cannot reach Kafka"
     */
    public static void check(
            String bootstrapServers, Properties clientProperties, int timeoutSeconds) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                String.valueOf(timeoutSeconds * 1000));
        props.put(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeoutSeconds * 1000));
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException auth) {
                throw new IllegalStateException(
                        "Kafka authentication failed at "
                                + bootstrapServers
                                + " (security.protocol "
                                + props.getProperty("security.protocol", "PLAINTEXT")
                                + ", sasl.mechanism "
                                + props.getProperty("sasl.mechanism", "-")
                                + ", user "
                                + user(props)
                                + "): "
                                + auth.getMessage(),
                        null);
            }
            throw new IllegalStateException(
                    "cannot reach Kafka at " + bootstrapServers + ": " + e.getCause().getMessage(),
                    null);
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "cannot reach Kafka at "
                            + bootstrapServers
                            + " within "
                            + timeoutSeconds
                            + " s",
                    null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(
                    "interrupted while checking Kafka at " + bootstrapServers, null);
        }
    }

    /** The user named in {@code sasl.jaas.config}, or {@code -}; never the password. */
    public static String user(Properties props) {
        String jaas = props.getProperty("sasl.jaas.config", "");
        int at = jaas.indexOf("username=\"");
        if (at < 0) {
            return "-";
        }
        int end = jaas.indexOf('"', at + 10);
        return end < 0 ? "-" : jaas.substring(at + 10, end);
    }
}
