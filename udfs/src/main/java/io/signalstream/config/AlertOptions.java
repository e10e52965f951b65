package io.signalstream.config;

import io.signalstream.events.Alert;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Options of the alert rules ({@code signalstream.alerts.*}). Every option can be overridden for
 * one tenant by inserting {@code tenants.<tenant_id>.} after {@code signalstream.alerts.}, e.g.
 * {@code signalstream.alerts.tenants.AppleSupport.reply-overdue.sla: 5 min} or {@code
 * signalstream.alerts.tenants.acme.pii-shared.enabled: false}. The override is parsed by the same
 * typed option as the global value.
 */
public final class AlertOptions {

    private AlertOptions() {}

    /** Prefix of every alert option. */
    public static final String PREFIX = "signalstream.alerts.";

    /**
     * Prefix of the per-tenant overrides: {@code signalstream.alerts.tenants.<tenant>.<option>}.
     */
    public static final String TENANTS_PREFIX = PREFIX + "tenants.";

    public static final ConfigOption<Integer> SENTIMENT_CONSECUTIVE_NEGATIVE =
            ConfigOptions.key(PREFIX + "sentiment.consecutive-negative")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "sentiment_deteriorating fires after this many consecutive customer"
                                    + " messages labelled negative.");

    public static final ConfigOption<Double> SENTIMENT_SCORE_DROP =
            ConfigOptions.key(PREFIX + "sentiment.score-drop")
                    .doubleType()
                    .defaultValue(0.6)
                    .withDescription(
                            "sentiment_deteriorating also fires when a customer message labelled"
                                    + " negative scores more than this below the customer's"
                                    + " previous message (scores are in [-1, 1]).");

    public static final ConfigOption<Duration> REPLY_OVERDUE_SLA =
            ConfigOptions.key(PREFIX + "reply-overdue.sla")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(15))
                    .withDescription(
                            "reply_overdue fires when a customer message has no agent reply"
                                    + " within this time.");

    /**
     * {@code signalstream.alerts.<type with dashes>.enabled}, e.g. {@code
     * signalstream.alerts.reply-overdue.enabled}; every type is enabled by default.
     *
     * @param type one of {@link Alert#TYPES}
     */
    public static ConfigOption<Boolean> enabled(String type) {
        return ConfigOptions.key(PREFIX + type.replace('_', '-') + ".enabled")
                .booleanType()
                .defaultValue(true)
                .withDescription("Whether " + type + " alerts are raised.");
    }

    /** Every option, for the per-tenant overrides and the docs. */
    public static List<ConfigOption<?>> all() {
        List<ConfigOption<?>> all =
                new java.util.ArrayList<>(
                        List.of(
                                SENTIMENT_CONSECUTIVE_NEGATIVE,
                                SENTIMENT_SCORE_DROP,
                                REPLY_OVERDUE_SLA));
        for (String type : Alert.TYPES) {
            all.add(enabled(type));
        }
        return all;
    }

    /**
     * The thresholds of one tenant (or the global ones).
     *
     * @param enabled the alert types raised
     * @param consecutiveNegative negative customer messages in a row that raise {@code
     *     sentiment_deteriorating} (at least 1)
     * @param scoreDrop sentiment score drop that raises it, in score units (scores in [-1, 1])
     * @param replySla time a customer message may wait for an agent reply
     */
    public record Thresholds(
            Set<String> enabled, int consecutiveNegative, double scoreDrop, Duration replySla)
            implements Serializable {

        public Thresholds {
            enabled = Set.copyOf(enabled);
            if (consecutiveNegative < 1) {
                throw new IllegalArgumentException(
                        SENTIMENT_CONSECUTIVE_NEGATIVE.key()
                                + " must be at least 1, got "
                                + consecutiveNegative);
            }
            if (replySla.isNegative() || replySla.isZero()) {
                throw new IllegalArgumentException(
                        REPLY_OVERDUE_SLA.key() + " must be positive, got " + replySla);
            }
        }

        /** Whether alerts of this type are raised. */
        public boolean isEnabled(String type) {
            return enabled.contains(type);
        }

        static Thresholds of(Configuration conf) {
            Set<String> on = new TreeSet<>();
            for (String type : Alert.TYPES) {
                if (conf.get(AlertOptions.enabled(type))) {
                    on.add(type);
                }
            }
            return new Thresholds(
                    on,
                    conf.get(SENTIMENT_CONSECUTIVE_NEGATIVE),
                    conf.get(SENTIMENT_SCORE_DROP),
                    conf.get(REPLY_OVERDUE_SLA));
        }
    }

    /**
     * The global thresholds and the tenants' overrides, resolved once when the job is built.
     *
     * @param defaults thresholds of tenants without overrides
     * @param tenants tenant id → its thresholds
     */
    public record Rules(Thresholds defaults, Map<String, Thresholds> tenants)
            implements Serializable {

        public Rules {
            tenants = Map.copyOf(tenants);
        }

        /** The thresholds of a tenant. */
        public Thresholds forTenant(String tenantId) {
            return tenants.getOrDefault(tenantId, defaults);
        }
    }

    /**
     * Reads the rules from the job configuration.
     *
     * @throws IllegalArgumentException for a value that does not parse, a threshold out of range,
     *     or an unknown option under {@code signalstream.alerts.tenants.}
     */
    public static Rules rules(Configuration conf) {
        Map<String, String> flat = conf.toMap();
        Map<String, Map<String, String>> overrides = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : flat.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(TENANTS_PREFIX)) {
                continue;
            }
            String rest = key.substring(TENANTS_PREFIX.length());
            String option = null;
            String tenant = null;
            for (ConfigOption<?> o : all()) {
                String suffix = o.key().substring(PREFIX.length());
                if (rest.endsWith("." + suffix) && rest.length() > suffix.length() + 1) {
                    option = o.key();
                    tenant = rest.substring(0, rest.length() - suffix.length() - 1);
                    break;
                }
            }
            if (option == null) {
                throw new IllegalArgumentException(
                        "unknown alert option '"
                                + key
                                + "': use "
                                + TENANTS_PREFIX
                                + "<tenant>.<option> with an option of "
                                + PREFIX
                                + "*");
            }
            overrides.computeIfAbsent(tenant, t -> new HashMap<>()).put(option, e.getValue());
        }
        Map<String, Thresholds> tenants = new HashMap<>();
        for (Map.Entry<String, Map<String, String>> t : overrides.entrySet()) {
            Map<String, String> merged = new HashMap<>(flat);
            merged.putAll(t.getValue());
            try {
                tenants.put(t.getKey(), Thresholds.of(Configuration.fromMap(merged)));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(
                        "alert options of tenant " + t.getKey() + ": " + ex.getMessage(), ex);
            }
        }
        return new Rules(Thresholds.of(conf), tenants);
    }
}
