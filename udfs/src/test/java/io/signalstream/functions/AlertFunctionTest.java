package io.signalstream.functions;

import io.signalstream.config.AlertOptions;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Operator harness tests of every alert rule, its episodes and its timers. */
class AlertFunctionTest {

    private static final String TENANT = "AppleSupport";
    private static final String CONV = "conv-7";
    private static final String KEY = TENANT + ":" + CONV;
    private static final Instant T0 = Instant.parse("2017-10-31T22:10:00Z");
    private static final long START = 5_000_000L;
    private static final Duration SLA = Duration.ofMinutes(15);

    private KeyedTwoInputStreamOperatorTestHarness<
                    String, ConversationSnapshot, AggregatedIntelligence, Alert>
            harness;

    @BeforeEach
    void open() throws Exception {
        harness = harness(new Configuration(), null);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, ConversationSnapshot, AggregatedIntelligence, Alert>
            harness(Configuration conf, OperatorSubtaskState restore) throws Exception {
        var h =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(
                                new AlertFunction(AlertOptions.rules(conf), Duration.ofDays(7))),
                        ConversationSnapshot::conversationKey,
                        AggregatedIntelligence::conversationKey,
                        Types.STRING);
        h.setProcessingTime(START);
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    // ---- inputs -------------------------------------------------------------------------

    private static ConversationSnapshot snapshot(
            String tenant, long version, String sender, Instant at) {
        TranscriptEntry last = new TranscriptEntry("m" + version, sender, "text " + version, at);
        List<String> agents =
                "customer".equals(sender)
                        ? List.of("pii", "sentiment", "insights")
                        : List.<String>of();
        return new ConversationSnapshot(
                tenant,
                CONV,
                version,
                version,
                last,
                List.of(last),
                T0,
                at,
                agents,
                new SourceRef("support.messages.raw", 0, version));
    }

    private static ConversationSnapshot customer(long version, int minute) {
        return snapshot(TENANT, version, "customer", T0.plusSeconds(60L * minute));
    }

    private static ConversationSnapshot agent(long version, int minute) {
        return snapshot(TENANT, version, "agent", T0.plusSeconds(60L * minute));
    }

    /** Builder of the aggregated record of one version. */
    private static final class Agg {
        final String tenant;
        final long version;
        Map<String, Object> sentiment;
        Map<String, Object> pii;
        Map<String, Object> insights;
        final Map<String, String> status = new HashMap<>();

        Agg(String tenant, long version) {
            this.tenant = tenant;
            this.version = version;
        }

        Agg sentiment(String label, double score) {
            sentiment = Map.of("label", label, "score", score);
            status.put("sentiment", "ok");
            return this;
        }

        Agg pii(boolean has) {
            pii =
                    has
                            ? Map.of(
                                    "has_pii",
                                    true,
                                    "entities",
                                    List.of(Map.of("type", "EMAIL", "start", 3, "end", 20)))
                            : Map.of("has_pii", false, "entities", List.of());
            status.put("pii", "ok");
            return this;
        }

        Agg insights(boolean escalate, String urgency) {
            insights =
                    Map.of(
                            "intent",
                            "complaint",
                            "urgency",
                            urgency,
                            "requires_escalation",
                            escalate);
            status.put("insights", "ok");
            return this;
        }

        AggregatedIntelligence build() {
            return new AggregatedIntelligence(
                    tenant,
                    CONV,
                    version,
                    sentiment,
                    pii,
                    insights,
                    null,
                    null,
                    true,
                    List.of(),
                    status,
                    List.of("m" + version),
                    Instant.ofEpochMilli(START));
        }
    }

    private static Agg agg(long version) {
        return new Agg(TENANT, version);
    }

    private void snap(ConversationSnapshot s) throws Exception {
        harness.processElement1(s, 0L);
    }

    private void aggregated(Agg a) throws Exception {
        harness.processElement2(a.build(), 0L);
    }

    /** Snapshot then aggregated record of a version. */
    private void turn(ConversationSnapshot s, Agg a) throws Exception {
        snap(s);
        aggregated(a);
    }

    private List<Alert> alerts(String type) {
        List<Alert> out = new ArrayList<>();
        for (Alert a : harness.extractOutputValues()) {
            if (a.type().equals(type)) {
                out.add(a);
            }
        }
        return out;
    }

    // ---- escalation and urgency ------------------------------------------------------------

    @Test
    void escalationFiresOncePerEpisodeAndAgainAfterItCleared() throws Exception {
        turn(customer(1, 0), agg(1).insights(true, "high"));
        assertThat(alerts(Alert.ESCALATION_REQUESTED)).hasSize(1);
        Alert first = alerts(Alert.ESCALATION_REQUESTED).get(0);
        assertThat(first.version()).isEqualTo(1);
        assertThat(first.tenantId()).isEqualTo(TENANT);
        assertThat(first.conversationId()).isEqualTo(CONV);
        assertThat(first.severity()).isEqualTo(Alert.WARNING);
        assertThat(first.evidence().messageIds()).containsExactly("m1");
        assertThat(first.alertId()).isEqualTo(Alert.idOf(KEY, T0, Alert.ESCALATION_REQUESTED, 1));

        turn(customer(2, 1), agg(2).insights(true, "high"));
        // an agent message carries the answer forward: same episode
        Agg carried = agg(3);
        carried.insights = Map.of("requires_escalation", true, "urgency", "high");
        turn(agent(3, 2), carried);
        assertThat(alerts(Alert.ESCALATION_REQUESTED)).as("same episode").hasSize(1);

        turn(customer(4, 3), agg(4).insights(false, "low"));
        turn(customer(5, 4), agg(5).insights(true, "high"));
        List<Alert> all = alerts(Alert.ESCALATION_REQUESTED);
        assertThat(all).hasSize(2);
        assertThat(all.get(1).version()).isEqualTo(5);
        assertThat(all.get(1).alertId()).isNotEqualTo(first.alertId());
    }

    @Test
    void criticalUrgencyFiresOncePerEpisodeAndAgainAfterItCleared() throws Exception {
        turn(customer(1, 0), agg(1).insights(false, "high"));
        assertThat(alerts(Alert.CRITICAL_URGENCY)).isEmpty();
        turn(customer(2, 1), agg(2).insights(false, "critical"));
        turn(customer(3, 2), agg(3).insights(false, "critical"));
        assertThat(alerts(Alert.CRITICAL_URGENCY)).hasSize(1);
        assertThat(alerts(Alert.CRITICAL_URGENCY).get(0).severity()).isEqualTo(Alert.CRITICAL);
        assertThat(alerts(Alert.CRITICAL_URGENCY).get(0).version()).isEqualTo(2);
        turn(customer(4, 3), agg(4).insights(false, "medium"));
        turn(customer(5, 4), agg(5).insights(false, "critical"));
        assertThat(alerts(Alert.CRITICAL_URGENCY))
                .extracting(Alert::version)
                .containsExactly(2L, 5L);
    }

    // ---- sentiment ---------------------------------------------------------------------------

    @Test
    void sentimentFiresAfterConsecutiveNegativeCustomerMessages() throws Exception {
        turn(customer(1, 0), agg(1).sentiment("negative", -0.4));
        turn(agent(2, 1), agg(2).sentiment("positive", 0.8)); // an agent's turn is not counted
        turn(customer(3, 2), agg(3).sentiment("negative", -0.5));
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING)).isEmpty();
        turn(customer(4, 3), agg(4).sentiment("negative", -0.45));
        List<Alert> fired = alerts(Alert.SENTIMENT_DETERIORATING);
        assertThat(fired).hasSize(1);
        assertThat(fired.get(0).version()).isEqualTo(4);
        assertThat(fired.get(0).severity()).isEqualTo(Alert.WARNING);
        assertThat(fired.get(0).evidence().messageIds()).containsExactly("m1", "m3", "m4");
        assertThat(fired.get(0).evidence().versions()).containsExactly(1L, 3L, 4L);

        turn(customer(5, 4), agg(5).sentiment("negative", -0.5));
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING)).as("same episode").hasSize(1);

        turn(customer(6, 5), agg(6).sentiment("neutral", 0.0));
        turn(customer(7, 6), agg(7).sentiment("negative", -0.3));
        turn(customer(8, 7), agg(8).sentiment("negative", -0.3));
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING)).hasSize(1);
        turn(customer(9, 8), agg(9).sentiment("negative", -0.3));
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING))
                .extracting(Alert::version)
                .containsExactly(4L, 9L);
    }

    @Test
    void sentimentFiresOnASharpDrop() throws Exception {
        turn(customer(1, 0), agg(1).sentiment("positive", 0.5));
        turn(customer(2, 1), agg(2).sentiment("negative", -0.2)); // drop 0.7 > 0.6
        List<Alert> fired = alerts(Alert.SENTIMENT_DETERIORATING);
        assertThat(fired).hasSize(1);
        assertThat(fired.get(0).severity()).isEqualTo(Alert.INFO);
        assertThat(fired.get(0).evidence().messageIds()).containsExactly("m1", "m2");
        assertThat(fired.get(0).reason()).contains("0.50", "-0.20");
    }

    @Test
    void sentimentIgnoresAnswersCarriedForward() throws Exception {
        // sentiment not scheduled for this version (missing): the carried answer is not new
        ConversationSnapshot s = customer(1, 0);
        snap(s);
        for (int v = 1; v <= 4; v++) {
            if (v > 1) {
                snap(customer(v, v));
            }
            Agg a = agg(v).sentiment("negative", -0.9);
            a.status.put("sentiment", "missing");
            aggregated(a);
        }
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING)).isEmpty();
    }

    // ---- pii ---------------------------------------------------------------------------------

    @Test
    void piiFiresForCustomerMessagesOncePerEpisode() throws Exception {
        turn(customer(1, 0), agg(1).pii(true));
        List<Alert> fired = alerts(Alert.PII_SHARED);
        assertThat(fired).hasSize(1);
        assertThat(fired.get(0).reason()).contains("EMAIL").doesNotContain("@");
        turn(customer(2, 1), agg(2).pii(true));
        turn(agent(3, 2), agg(3).pii(true)); // an agent message is not the customer's
        assertThat(alerts(Alert.PII_SHARED)).hasSize(1);
        turn(customer(4, 3), agg(4).pii(false));
        turn(customer(5, 4), agg(5).pii(true));
        assertThat(alerts(Alert.PII_SHARED)).extracting(Alert::version).containsExactly(1L, 5L);
    }

    @Test
    void aPartialThenACompleteRecordOfAVersionCountsEachAnswerOnce() throws Exception {
        turn(customer(1, 0), agg(1).sentiment("negative", -0.5));
        // version 2: partial (pii missing), then complete with the late PII answer
        snap(customer(2, 1));
        Agg partial = agg(2).sentiment("negative", -0.5);
        partial.status.put("pii", "missing");
        aggregated(partial);
        assertThat(alerts(Alert.PII_SHARED)).isEmpty();
        aggregated(agg(2).sentiment("negative", -0.5).pii(true));
        assertThat(alerts(Alert.PII_SHARED)).extracting(Alert::version).containsExactly(2L);
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING))
                .as("version 2's sentiment counted once: 2 negatives in a row, not 3")
                .isEmpty();
        turn(customer(3, 2), agg(3).sentiment("negative", -0.5));
        List<Alert> fired = alerts(Alert.SENTIMENT_DETERIORATING);
        assertThat(fired).extracting(Alert::version).containsExactly(3L);
        assertThat(fired.get(0).evidence().messageIds()).containsExactly("m1", "m2", "m3");
    }

    @Test
    void anAggregatedRecordBeforeItsSnapshotWaitsForIt() throws Exception {
        aggregated(agg(1).pii(true));
        assertThat(alerts(Alert.PII_SHARED)).isEmpty();
        snap(customer(1, 0));
        assertThat(alerts(Alert.PII_SHARED)).extracting(Alert::version).containsExactly(1L);
    }

    // ---- reply overdue ----------------------------------------------------------------------

    @Test
    void replyOverdueFiresWhenTheSlaPassesAndOnlyOncePerEpisode() throws Exception {
        turn(customer(1, 0), agg(1));
        harness.setProcessingTime(START + SLA.toMillis() - 1);
        assertThat(alerts(Alert.REPLY_OVERDUE)).isEmpty();
        harness.setProcessingTime(START + SLA.toMillis());
        List<Alert> fired = alerts(Alert.REPLY_OVERDUE);
        assertThat(fired).hasSize(1);
        assertThat(fired.get(0).version()).isEqualTo(1);
        assertThat(fired.get(0).evidence().messageIds()).containsExactly("m1");
        assertThat(fired.get(0).createdAt())
                .isEqualTo(Instant.ofEpochMilli(START + SLA.toMillis()));

        // a second customer message in the same wait: same episode
        turn(customer(2, 1), agg(2));
        harness.setProcessingTime(START + 3 * SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).hasSize(1);

        // the reply clears it; a new unanswered message is a new episode
        turn(agent(3, 2), agg(3));
        turn(customer(4, 3), agg(4));
        harness.setProcessingTime(START + 4 * SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).extracting(Alert::version).containsExactly(1L, 4L);
    }

    @Test
    void replyOverdueIsCancelledByTheAgentsReply() throws Exception {
        turn(customer(1, 0), agg(1));
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        harness.setProcessingTime(START + SLA.toMillis() / 2);
        turn(agent(2, 7), agg(2));
        assertThat(harness.numProcessingTimeTimers()).isZero();
        harness.setProcessingTime(START + 10 * SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).isEmpty();
    }

    @Test
    void replyOverdueTimerSurvivesARestore() throws Exception {
        turn(customer(1, 0), agg(1));
        OperatorSubtaskState snap = harness.snapshot(1L, START + 10);
        harness.close();

        harness = harness(new Configuration(), snap);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        harness.setProcessingTime(START + SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).extracting(Alert::version).containsExactly(1L);
    }

    @Test
    void episodesSurviveARestore() throws Exception {
        turn(customer(1, 0), agg(1).insights(true, "high"));
        OperatorSubtaskState snap = harness.snapshot(1L, START + 10);
        harness.close();

        harness = harness(new Configuration(), snap);
        turn(customer(2, 1), agg(2).insights(true, "high"));
        assertThat(alerts(Alert.ESCALATION_REQUESTED)).as("still the same episode").isEmpty();
    }

    @Test
    void replyOverdueWaitsForTheAggregatedRecordOfItsVersion() throws Exception {
        snap(customer(1, 0));
        harness.setProcessingTime(START + SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).as("version 1 not aggregated yet").isEmpty();
        aggregated(agg(1));
        assertThat(alerts(Alert.REPLY_OVERDUE)).extracting(Alert::version).containsExactly(1L);
    }

    @Test
    void replyOverdueFiresFromMessageTimestampsOfAReplay() throws Exception {
        // replayed history: the reply came 40 minutes later by its timestamp, at once in
        // processing time
        turn(customer(1, 0), agg(1));
        turn(agent(2, 40), agg(2));
        List<Alert> fired = alerts(Alert.REPLY_OVERDUE);
        assertThat(fired).hasSize(1);
        assertThat(fired.get(0).version()).isEqualTo(1);
        assertThat(fired.get(0).reason()).contains("40 min", "SLA 15 min");
        assertThat(fired.get(0).evidence().messageIds()).containsExactly("m1", "m2");
        assertThat(harness.numProcessingTimeTimers()).as("the timer is a no-op").isLessThan(2);
        harness.setProcessingTime(START + 2 * SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).hasSize(1);

        turn(customer(3, 41), agg(3));
        turn(agent(4, 45), agg(4));
        harness.setProcessingTime(START + 4 * SLA.toMillis());
        assertThat(alerts(Alert.REPLY_OVERDUE)).as("answered in 4 min").hasSize(1);
    }

    // ---- configuration ----------------------------------------------------------------------

    @Test
    void perTenantOverridesAndDisabledTypes() throws Exception {
        harness.close();
        Configuration conf = new Configuration();
        conf.setString(
                "signalstream.alerts.tenants.AppleSupport.sentiment.consecutive-negative", "1");
        conf.setString("signalstream.alerts.tenants.Other.Team.pii-shared.enabled", "false");
        harness = harness(conf, null);

        turn(customer(1, 0), agg(1).sentiment("negative", -0.2));
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING)).hasSize(1);

        Agg other = new Agg("Other.Team", 1).pii(true).sentiment("negative", -0.2);
        harness.processElement1(snapshot("Other.Team", 1, "customer", T0), 0L);
        harness.processElement2(other.build(), 0L);
        assertThat(alerts(Alert.PII_SHARED)).as("disabled for Other.Team").isEmpty();
        assertThat(alerts(Alert.SENTIMENT_DETERIORATING))
                .as("default threshold 3 for Other.Team")
                .hasSize(1);

        AlertOptions.Rules rules = AlertOptions.rules(conf);
        assertThat(rules.forTenant("AppleSupport").consecutiveNegative()).isEqualTo(1);
        assertThat(rules.forTenant("Other.Team").isEnabled(Alert.PII_SHARED)).isFalse();
        assertThat(rules.forTenant("nobody").consecutiveNegative()).isEqualTo(3);
        assertThat(rules.forTenant("nobody").replySla()).isEqualTo(SLA);
    }

    @Test
    void unknownOrInvalidOptionsAreRefused() {
        Configuration typo = new Configuration();
        typo.setString("signalstream.alerts.tenants.acme.reply-overdue.slaa", "5 min");
        assertThatThrownBy(() -> AlertOptions.rules(typo))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown alert option");
        Configuration zero = new Configuration();
        zero.setString("signalstream.alerts.tenants.acme.sentiment.consecutive-negative", "0");
        assertThatThrownBy(() -> AlertOptions.rules(zero))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("acme");
    }
}
