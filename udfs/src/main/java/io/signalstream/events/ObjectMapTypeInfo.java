package io.signalstream.events;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.lang.reflect.Type;
import java.util.Map;

/**
 * Flink type information of an agent's answer, a JSON-like {@code Map<String, Object>}: serialized
 * by {@link ObjectMapSerializer}, not by Kryo. Fields of that type are annotated with
 * {@code @TypeInfo(ObjectMapTypeInfo.Factory.class)}, which Flink's type extractor honours on POJO
 * and record fields.
 */
public final class ObjectMapTypeInfo extends TypeInformation<Map<String, Object>> {

    private static final long serialVersionUID = 1L;

    /** The type information; stateless. */
    public static final ObjectMapTypeInfo INSTANCE = new ObjectMapTypeInfo();

    private ObjectMapTypeInfo() {}

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Class<Map<String, Object>> getTypeClass() {
        return (Class<Map<String, Object>>) (Class<?>) Map.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<Map<String, Object>> createSerializer(SerializerConfig config) {
        return ObjectMapSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "ObjectMap";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof ObjectMapTypeInfo;
    }

    @Override
    public int hashCode() {
        return ObjectMapTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof ObjectMapTypeInfo;
    }

    /** The factory named by {@code @TypeInfo} on answer fields. */
    public static final class Factory extends TypeInfoFactory<Map<String, Object>> {
        @Override
        public TypeInformation<Map<String, Object>> createTypeInfo(
                Type t, Map<String, TypeInformation<?>> genericParameters) {
            return INSTANCE;
        }
    }
}
