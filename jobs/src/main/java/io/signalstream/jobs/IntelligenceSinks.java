package io.signalstream.jobs;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.LearningSignal;
import io.signalstream.events.LineageRecord;

import org.apache.flink.api.connector.sink2.Sink;

/**
 * The sinks of {@link ConversationIntelligenceJob}, one per output. Production uses {@link
 * KafkaIntelligenceSinks}; tests may substitute their own.
 */
public interface IntelligenceSinks {

    /** Sink of conversation snapshots ({@code support.conversations.state}). */
    Sink<ConversationSnapshot> snapshots();

    /** Sink of agent results ({@code support.ai.<agent>}). */
    Sink<AgentResult> agentResults();

    /** Sink of aggregated intelligence ({@code support.ai.aggregated}). */
    Sink<AggregatedIntelligence> aggregated();

    /** Sink of lineage records ({@code support.lineage}). */
    Sink<LineageRecord> lineage();

    /** Sink of alerts ({@code support.alerts}). */
    Sink<Alert> alerts();

    /** Sink of dead letters ({@code support.dlq}). */
    Sink<DeadLetter> deadLetters();

    /** Sink of learning signals ({@code support.learning-signals}). */
    Sink<LearningSignal> learningSignals();
}
