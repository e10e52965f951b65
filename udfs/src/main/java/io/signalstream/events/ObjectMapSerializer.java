package io.signalstream.events;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flink serializer of an agent's answer, a JSON-like {@code Map<String, Object>} (the {@code
 * result} of {@link AgentResult} and the per-agent maps of {@link AggregatedIntelligence}), so that
 * it never goes through Kryo ({@code pipeline.generic-types: false} holds).
 *
 * <p>Format: one tag byte per value, then the value: {@code null}; {@code String} (modified UTF-8
 * in chunks, so strings longer than 64 KiB work); {@code Boolean}; {@code Integer}; {@code Long};
 * {@code Double}; {@code Float}; {@code BigInteger} and {@code BigDecimal} (as their decimal
 * strings); a {@code List} (any {@link Collection}: size, then the values); a {@code Map} (size,
 * then key string and value, in iteration order). Types are kept exactly: a {@code Long} comes back
 * as a {@code Long}, maps as insertion-ordered {@link LinkedHashMap}s, lists as {@link ArrayList}s.
 * Any other value (answers are parsed from JSON, so none is expected) is written as its {@code
 * toString()}, so a surprising value degrades to text instead of failing the job.
 *
 * <p>State written before this serializer existed (the map's values by Kryo) is migrated on
 * restore: {@link Snapshot#resolveSchemaCompatibility} answers {@code compatibleAfterMigration} for
 * any earlier serializer of the same type, and Flink reads the old state with its old serializer
 * and writes it with this one.
 */
public final class ObjectMapSerializer extends TypeSerializerSingleton<Map<String, Object>> {

    private static final long serialVersionUID = 1L;

    /** The serializer; stateless and thread-safe. */
    public static final ObjectMapSerializer INSTANCE = new ObjectMapSerializer();

    private static final byte NULL = 0;
    private static final byte STRING = 1;
    private static final byte TRUE = 2;
    private static final byte FALSE = 3;
    private static final byte INT = 4;
    private static final byte LONG = 5;
    private static final byte DOUBLE = 6;
    private static final byte FLOAT = 7;
    private static final byte BIG_INTEGER = 8;
    private static final byte BIG_DECIMAL = 9;
    private static final byte LIST = 10;
    private static final byte MAP = 11;

    /** Longest string chunk written with one {@code writeUTF} (its limit is 65,535 bytes). */
    private static final int UTF_CHUNK = 16_384;

    private ObjectMapSerializer() {}

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public Map<String, Object> createInstance() {
        return new LinkedHashMap<>();
    }

    @Override
    public Map<String, Object> copy(Map<String, Object> from) {
        return from == null ? null : copyMap(from);
    }

    @Override
    public Map<String, Object> copy(Map<String, Object> from, Map<String, Object> reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(Map<String, Object> record, DataOutputView target) throws IOException {
        write(record, target);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> deserialize(DataInputView source) throws IOException {
        return (Map<String, Object>) read(source);
    }

    @Override
    public Map<String, Object> deserialize(Map<String, Object> reuse, DataInputView source)
            throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        write(read(source), target);
    }

    @Override
    public TypeSerializerSnapshot<Map<String, Object>> snapshotConfiguration() {
        return new Snapshot();
    }

    private static Map<String, Object> copyMap(Map<?, ?> from) {
        Map<String, Object> out = new LinkedHashMap<>(Math.max(4, from.size() * 2));
        from.forEach((k, v) -> out.put(String.valueOf(k), copyValue(v)));
        return out;
    }

    private static Object copyValue(Object v) {
        if (v instanceof Map<?, ?> m) {
            return copyMap(m);
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            for (Object e : c) {
                out.add(copyValue(e));
            }
            return out;
        }
        return v; // null, strings, boxed numbers and booleans are immutable
    }

    private static void write(Object v, DataOutputView out) throws IOException {
        if (v == null) {
            out.writeByte(NULL);
        } else if (v instanceof String s) {
            out.writeByte(STRING);
            writeString(s, out);
        } else if (v instanceof Boolean b) {
            out.writeByte(b ? TRUE : FALSE);
        } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            out.writeByte(INT);
            out.writeInt(((Number) v).intValue());
        } else if (v instanceof Long l) {
            out.writeByte(LONG);
            out.writeLong(l);
        } else if (v instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeDouble(d);
        } else if (v instanceof Float f) {
            out.writeByte(FLOAT);
            out.writeFloat(f);
        } else if (v instanceof BigInteger i) {
            out.writeByte(BIG_INTEGER);
            writeString(i.toString(), out);
        } else if (v instanceof BigDecimal d) {
            out.writeByte(BIG_DECIMAL);
            writeString(d.toString(), out);
        } else if (v instanceof Map<?, ?> m) {
            out.writeByte(MAP);
            out.writeInt(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                writeString(String.valueOf(e.getKey()), out);
                write(e.getValue(), out);
            }
        } else if (v instanceof Collection<?> c) {
            out.writeByte(LIST);
            out.writeInt(c.size());
            for (Object e : c) {
                write(e, out);
            }
        } else {
            out.writeByte(STRING);
            writeString(v.toString(), out);
        }
    }

    private static Object read(DataInputView in) throws IOException {
        byte tag = in.readByte();
        switch (tag) {
            case NULL:
                return null;
            case STRING:
                return readString(in);
            case TRUE:
                return Boolean.TRUE;
            case FALSE:
                return Boolean.FALSE;
            case INT:
                return in.readInt();
            case LONG:
                return in.readLong();
            case DOUBLE:
                return in.readDouble();
            case FLOAT:
                return in.readFloat();
            case BIG_INTEGER:
                return new BigInteger(readString(in));
            case BIG_DECIMAL:
                return new BigDecimal(readString(in));
            case LIST:
                {
                    int n = in.readInt();
                    List<Object> list = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        list.add(read(in));
                    }
                    return list;
                }
            case MAP:
                {
                    int n = in.readInt();
                    Map<String, Object> map = new LinkedHashMap<>(Math.max(4, n * 2));
                    for (int i = 0; i < n; i++) {
                        String key = readString(in);
                        map.put(key, read(in));
                    }
                    return map;
                }
            default:
                throw new IOException("corrupt agent answer: unknown value tag " + tag);
        }
    }

    private static void writeString(String s, DataOutputView out) throws IOException {
        int chunks = (s.length() + UTF_CHUNK - 1) / UTF_CHUNK;
        out.writeInt(chunks);
        for (int i = 0; i < chunks; i++) {
            out.writeUTF(s.substring(i * UTF_CHUNK, Math.min(s.length(), (i + 1) * UTF_CHUNK)));
        }
    }

    private static String readString(DataInputView in) throws IOException {
        int chunks = in.readInt();
        if (chunks == 1) {
            return in.readUTF();
        }
        StringBuilder sb = new StringBuilder(chunks * UTF_CHUNK);
        for (int i = 0; i < chunks; i++) {
            sb.append(in.readUTF());
        }
        return sb.toString();
    }

    /**
     * Snapshot of {@link ObjectMapSerializer}: no configuration. Compatible as is with itself, and
     * after migration with any earlier serializer of an agent answer (the Kryo-backed map
     * serializer of state written before this serializer existed).
     */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Map<String, Object>> {

        /** Needed by Flink to read the snapshot. */
        public Snapshot() {
            super(() -> INSTANCE);
        }

        @Override
        public TypeSerializerSchemaCompatibility<Map<String, Object>> resolveSchemaCompatibility(
                TypeSerializerSnapshot<Map<String, Object>> oldSerializerSnapshot) {
            if (oldSerializerSnapshot instanceof Snapshot) {
                return TypeSerializerSchemaCompatibility.compatibleAsIs();
            }
            return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
    }
}
