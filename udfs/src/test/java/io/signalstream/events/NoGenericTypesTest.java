package io.signalstream.events;

import io.signalstream.functions.AlertFunction;
import io.signalstream.functions.ConversationStateFunction;
import io.signalstream.functions.FeedbackJoinFunction;
import io.signalstream.functions.IntelligenceAggregator;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.CompositeType;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.api.java.typeutils.MapTypeInfo;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * Every type on the job's data path and in its keyed state is serialized by a Flink serializer,
 * never by Kryo: its type information holds no {@link GenericTypeInfo} at any depth, and a
 * serializer can be created with generic types disabled ({@code pipeline.generic-types: false}).
 */
class NoGenericTypesTest {

    @ParameterizedTest
    @ValueSource(
            classes = {
                RawRecord.class,
                ChatMessage.class,
                TranscriptEntry.class,
                ConversationSnapshot.class,
                AgentResult.class,
                AggregatedIntelligence.class,
                LineageRecord.class,
                DeadLetter.class,
                SourceRef.class,
                Usage.class,
                ConversationStateFunction.ConversationCounters.class,
                IntelligenceAggregator.PendingAnchor.class,
                IntelligenceAggregator.LatestAnswer.class,
                Alert.class,
                AlertFunction.Turn.class,
                AlertFunction.Track.class,
                Feedback.class,
                LearningSignal.class,
                FeedbackJoinFunction.PendingFeedback.class
            })
    void isSerializedWithoutKryo(Class<?> type) {
        TypeInformation<?> info = TypeInformation.of(type);
        assertThat(genericParts(info)).as("generic (Kryo) parts of %s", info).isEmpty();
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        assertThatCode(() -> info.createSerializer(config)).doesNotThrowAnyException();
    }

    private static List<String> genericParts(TypeInformation<?> info) {
        List<String> out = new ArrayList<>();
        collect(info, "", out);
        return out;
    }

    private static void collect(TypeInformation<?> info, String path, List<String> out) {
        if (info instanceof GenericTypeInfo<?>) {
            out.add(path + ": " + info);
        } else if (info instanceof ListTypeInfo<?> list) {
            collect(list.getElementTypeInfo(), path + "[]", out);
        } else if (info instanceof MapTypeInfo<?, ?> map) {
            collect(map.getKeyTypeInfo(), path + "{key}", out);
            collect(map.getValueTypeInfo(), path + "{value}", out);
        } else if (info instanceof CompositeType<?> composite) {
            for (int i = 0; i < composite.getArity(); i++) {
                collect(composite.getTypeAt(i), path + "." + composite.getFieldNames()[i], out);
            }
        }
    }
}
