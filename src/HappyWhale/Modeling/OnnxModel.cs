using System.Text;

namespace HappyWhale.Modeling;

/// <summary>A float tensor of an ONNX graph (an initializer or a Constant node's value).</summary>
public sealed record OnnxTensor(string Name, long[] Dims, float[] Data)
{
    public long Count => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>One attribute of a node: ints, floats, a string or a tensor, whichever the type says.</summary>
public sealed record OnnxAttribute(string Name, long? Int, float? Float, string? String, long[] Ints, float[] Floats, OnnxTensor? Tensor);

/// <summary>One operator of the graph, with the names of the values it reads and writes.</summary>
public sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    public long[] Ints(string name, long[]? fallback = null) =>
        Attributes.TryGetValue(name, out var a) ? a.Ints : fallback ?? throw new InvalidDataException($"ONNX node {Name} ({OpType}) has no attribute {name}");

    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) && a.Float is { } f ? f : fallback;
}

/// <summary>
/// The parts of an ONNX model (ModelProto) that weight conversion needs: the graph's nodes in order,
/// its float initializers, its input and output names. Read with a small protobuf wire-format reader
/// (field numbers from onnx.proto), so no protobuf package or generated code is needed; tensors with
/// external data or non-float types are refused with the tensor's name.
/// </summary>
public sealed class OnnxModel
{
    public string File { get; }
    public string ProducerName { get; private set; } = "";
    public string ProducerVersion { get; private set; } = "";
    public List<OnnxNode> Nodes { get; } = [];
    public Dictionary<string, OnnxTensor> Initializers { get; } = new(StringComparer.Ordinal);
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];

    OnnxModel(string file) => File = file;

    /// <summary>Reads <paramref name="path"/>; a file that is not a readable ONNX model throws a <see cref="UserException"/> naming it.</summary>
    public static OnnxModel Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new UserException($"ONNX model not found: {path}");
        var model = new OnnxModel(path);
        try
        {
            model.ReadModel(new ProtoReader(System.IO.File.ReadAllBytes(path)));
        }
        catch (Exception e) when (e is InvalidDataException or IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            throw new UserException($"{path} is not a readable ONNX model: {e.Message}", e);
        }
        if (model.Nodes.Count == 0) throw new UserException($"{path} is not a readable ONNX model: its graph has no nodes.");
        return model;
    }

    /// <summary>Nodes of one operator type, in graph order.</summary>
    public IEnumerable<OnnxNode> OfType(string opType) => Nodes.Where(n => n.OpType == opType);

    void ReadModel(ProtoReader r)
    {
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 2: ProducerName = r.String(); break;
                case 3: ProducerVersion = r.String(); break;
                case 7: ReadGraph(r.Message()); break;
                default: r.Skip(wire); break;
            }
        }
    }

    void ReadGraph(ProtoReader r)
    {
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: Nodes.Add(ReadNode(r.Message())); break;
                case 5:
                    var t = ReadTensor(r.Message());
                    Initializers[t.Name] = t;
                    break;
                case 11: Inputs.Add(ReadValueInfoName(r.Message())); break;
                case 12: Outputs.Add(ReadValueInfoName(r.Message())); break;
                default: r.Skip(wire); break;
            }
        }
    }

    static string ReadValueInfoName(ProtoReader r)
    {
        string name = "";
        while (r.Next(out int field, out int wire))
        {
            if (field == 1) name = r.String();
            else r.Skip(wire);
        }
        return name;
    }

    static OnnxNode ReadNode(ProtoReader r)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        string name = "", op = "";
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: inputs.Add(r.String()); break;
                case 2: outputs.Add(r.String()); break;
                case 3: name = r.String(); break;
                case 4: op = r.String(); break;
                case 5:
                    var a = ReadAttribute(r.Message());
                    attributes[a.Name] = a;
                    break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxNode(name.Length > 0 ? name : string.Join(",", outputs), op, inputs, outputs, attributes);
    }

    static OnnxAttribute ReadAttribute(ProtoReader r)
    {
        string name = "";
        long? i = null;
        float? f = null;
        string? s = null;
        OnnxTensor? t = null;
        var ints = new List<long>();
        var floats = new List<float>();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: name = r.String(); break;
                case 2: f = r.Fixed32Float(); break;
                case 3: i = r.Varint(); break;
                case 4: s = r.String(); break;
                case 5: t = ReadTensor(r.Message()); break;
                case 7: r.RepeatedFloat(wire, floats); break;
                case 8: r.RepeatedVarint(wire, ints); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxAttribute(name, i, f, s, ints.ToArray(), floats.ToArray(), t);
    }

    const int Float32 = 1, ExternalLocation = 1;

    static OnnxTensor ReadTensor(ProtoReader r)
    {
        var dims = new List<long>();
        var floats = new List<float>();
        ReadOnlyMemory<byte>? raw = null;
        int dataType = 0, location = 0;
        string name = "";
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: r.RepeatedVarint(wire, dims); break;
                case 2: dataType = (int)r.Varint(); break;
                case 4: r.RepeatedFloat(wire, floats); break;
                case 8: name = r.String(); break;
                case 9: raw = r.Bytes(); break;
                case 14: location = (int)r.Varint(); break;
                default: r.Skip(wire); break;
            }
        }
        if (location == ExternalLocation) throw new InvalidDataException($"tensor '{name}' keeps its data in an external file, which is not supported");
        if (dataType != Float32) throw new InvalidDataException($"tensor '{name}' has data type {dataType}; only float32 (1) is supported");
        long count = dims.Aggregate(1L, (a, b) => a * b);
        float[] data;
        if (raw is { } bytes)
        {
            if (bytes.Length != count * 4) throw new InvalidDataException($"tensor '{name}' of shape [{string.Join(", ", dims)}] has {bytes.Length} bytes of raw data, expected {count * 4}");
            // raw_data is little-endian by the ONNX spec, as are the machines TorchSharp runs on.
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("reading ONNX raw_data needs a little-endian machine");
            data = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.Span).ToArray();
        }
        else
        {
            if (floats.Count != count) throw new InvalidDataException($"tensor '{name}' of shape [{string.Join(", ", dims)}] has {floats.Count} float_data values, expected {count}");
            data = floats.ToArray();
        }
        return new OnnxTensor(name, dims.ToArray(), data);
    }

    /// <summary>The protobuf wire format: a field key (number and wire type) then its value; messages nest as length-delimited bytes.</summary>
    sealed class ProtoReader(ReadOnlyMemory<byte> buffer)
    {
        int position;

        bool AtEnd => position >= buffer.Length;

        public bool Next(out int field, out int wire)
        {
            if (AtEnd) { field = wire = 0; return false; }
            ulong key = (ulong)Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            if (field == 0) throw new InvalidDataException($"field number 0 at byte {position}");
            return true;
        }

        public long Varint()
        {
            var span = buffer.Span;
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (position >= span.Length) throw new InvalidDataException("truncated varint");
                byte b = span[position++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return (long)result;
            }
            throw new InvalidDataException($"varint longer than 10 bytes before byte {position}");
        }

        public ReadOnlyMemory<byte> Bytes()
        {
            long length = Varint();
            if (length < 0 || length > buffer.Length - position) throw new InvalidDataException($"length {length} at byte {position} runs past the end");
            var slice = buffer.Slice(position, (int)length);
            position += (int)length;
            return slice;
        }

        public ProtoReader Message() => new(Bytes());

        public string String() => Encoding.UTF8.GetString(Bytes().Span);

        public float Fixed32Float()
        {
            if (position + 4 > buffer.Length) throw new InvalidDataException("truncated fixed32");
            float f = BitConverter.ToSingle(buffer.Span.Slice(position, 4));
            position += 4;
            return f;
        }

        /// <summary>A repeated int64: packed (one length-delimited run) or one value per key.</summary>
        public void RepeatedVarint(int wire, List<long> into)
        {
            if (wire == 0) { into.Add(Varint()); return; }
            var packed = Message();
            while (!packed.AtEnd) into.Add(packed.Varint());
        }

        public void RepeatedFloat(int wire, List<float> into)
        {
            if (wire == 5) { into.Add(Fixed32Float()); return; }
            var packed = Message();
            while (!packed.AtEnd) into.Add(packed.Fixed32Float());
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: position += 8; break;
                case 2: Bytes(); break;
                case 5: position += 4; break;
                default: throw new InvalidDataException($"unsupported wire type {wire} at byte {position}");
            }
            if (position > buffer.Length) throw new InvalidDataException("truncated field");
        }
    }
}
