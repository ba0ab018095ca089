using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Models.Serialization;

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a UTF-8 JSON
/// header mapping each tensor name to its dtype, shape and [begin, end) byte offsets into the data that
/// follows, and the raw little-endian tensor bytes, packed in header order without holes.
/// </summary>
public static class SafeTensors
{
    /// <summary>The reference implementation refuses headers above 100 MB; so does this one.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private static readonly Dictionary<ScalarType, string> DtypeNames = new()
    {
        [ScalarType.Float64] = "F64",
        [ScalarType.Float32] = "F32",
        [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16",
        [ScalarType.Int64] = "I64",
        [ScalarType.Int32] = "I32",
        [ScalarType.Int16] = "I16",
        [ScalarType.Int8] = "I8",
        [ScalarType.Byte] = "U8",
        [ScalarType.Bool] = "BOOL",
    };

    private static readonly Dictionary<string, ScalarType> DtypesByName =
        DtypeNames.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> (via a temporary file and a rename).</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Write(stream, tensors, metadata);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Writes <paramref name="tensors"/> in the given order; names must be unique and non-empty.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<(string Name, Tensor Data, string Dtype, long Length)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                if (string.IsNullOrEmpty(name) || name == MetadataKey)
                {
                    throw new ArgumentException($"Tensor name '{name}' cannot be stored in safetensors.", nameof(tensors));
                }
                if (!seen.Add(name))
                {
                    throw new ArgumentException($"Tensor '{name}' appears twice.", nameof(tensors));
                }
                if (!DtypeNames.TryGetValue(tensor.dtype, out var dtype))
                {
                    throw new ArgumentException(
                        $"Tensor '{name}' has dtype {tensor.dtype}; safetensors here supports {string.Join(", ", DtypeNames.Keys)}.", nameof(tensors));
                }
                var data = tensor.detach().cpu().contiguous();
                entries.Add((name, data, dtype, data.NumberOfElements * data.ElementSize));
            }

            var header = BuildHeader(entries.Select(e => (e.Name, e.Dtype, e.Data.shape, e.Length)), metadata);
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var entry in entries)
            {
                stream.Write(entry.Data.bytes);
            }
            stream.Flush();
        }
        finally
        {
            foreach (var entry in entries)
            {
                entry.Data.Dispose();
            }
        }
    }

    /// <summary>Reads a whole safetensors file; throws <see cref="SafeTensorsFormatException"/> naming the problem.</summary>
    public static SafeTensorsContent Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        try
        {
            return Read(stream);
        }
        catch (SafeTensorsFormatException e)
        {
            throw new SafeTensorsFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads a safetensors stream to its end; tensors come back on the CPU in file order.</summary>
    public static SafeTensorsContent Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[8];
        if (ReadFully(stream, prefix) != 8)
        {
            throw new SafeTensorsFormatException("File is shorter than the 8-byte header length: not a safetensors file.");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
        {
            throw new SafeTensorsFormatException($"Header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit: not a safetensors file or corrupt.");
        }
        if (stream.CanSeek && (long)headerLength > stream.Length - stream.Position)
        {
            throw new SafeTensorsFormatException($"Header length {headerLength} runs past the end of the file ({stream.Length} bytes): truncated or corrupt.");
        }
        var header = new byte[headerLength];
        if (ReadFully(stream, header) != header.Length)
        {
            throw new SafeTensorsFormatException($"File ends inside the {headerLength}-byte header: truncated.");
        }

        var (specs, metadata) = ParseHeader(header);
        var dataLength = specs.Count == 0 ? 0 : specs.Max(s => s.End);
        if (dataLength > Array.MaxLength)
        {
            throw new SafeTensorsFormatException($"Data section of {dataLength} bytes is larger than this reader supports ({Array.MaxLength}).");
        }
        var data = new byte[dataLength];
        var read = ReadFully(stream, data);
        if (read != data.Length)
        {
            throw new SafeTensorsFormatException($"File ends after {read} of {dataLength} data bytes: truncated.");
        }
        if (stream.CanSeek && stream.Position != stream.Length)
        {
            throw new SafeTensorsFormatException(
                $"{stream.Length - stream.Position} bytes follow the last tensor's data: the header's data_offsets do not cover the file.");
        }

        var tensors = new List<KeyValuePair<string, Tensor>>(specs.Count);
        try
        {
            foreach (var spec in specs)
            {
                var tensor = empty(spec.Shape, spec.Dtype);
                if (spec.End > spec.Begin)
                {
                    tensor.bytes = data.AsSpan((int)spec.Begin, (int)(spec.End - spec.Begin));
                }
                tensors.Add(new(spec.Name, tensor));
            }
        }
        catch
        {
            foreach (var (_, tensor) in tensors)
            {
                tensor.Dispose();
            }
            throw;
        }
        return new SafeTensorsContent(tensors, metadata);
    }

    private static byte[] BuildHeader(IEnumerable<(string Name, string Dtype, long[] Shape, long Length)> entries,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, length) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var dim in shape)
                {
                    json.WriteNumberValue(dim);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        var padding = (int)((8 - (buffer.Length % 8)) % 8);
        for (var i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }
        return buffer.ToArray();
    }

    private sealed record TensorSpec(string Name, ScalarType Dtype, long[] Shape, long Begin, long End);

    private static (List<TensorSpec> Specs, Dictionary<string, string> Metadata) ParseHeader(byte[] header)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException($"Header is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException($"Header must be a JSON object, found {document.RootElement.ValueKind}.");
            }
            var specs = new List<TensorSpec>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw new SafeTensorsFormatException($"Tensor '{property.Name}' appears twice in the header.");
                }
                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, metadata);
                    continue;
                }
                specs.Add(ParseSpec(property.Name, property.Value));
            }
            specs.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expected = 0;
            foreach (var spec in specs)
            {
                if (spec.Begin != expected)
                {
                    throw new SafeTensorsFormatException(spec.Begin < expected
                        ? $"Tensor '{spec.Name}': data_offsets [{spec.Begin}, {spec.End}] overlap the previous tensor (which ends at {expected})."
                        : $"Tensor '{spec.Name}': data_offsets start at {spec.Begin}, leaving a hole after byte {expected}.");
                }
                expected = spec.End;
            }
            return (specs, metadata);
        }
    }

    private static void ParseMetadata(JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException($"'{MetadataKey}' must be an object of strings.");
        }
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafeTensorsFormatException($"'{MetadataKey}.{entry.Name}' must be a string, found {entry.Value.ValueKind}.");
            }
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static TensorSpec ParseSpec(string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException($"Tensor '{name}': header entry must be an object with dtype, shape and data_offsets.");
        }
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new SafeTensorsFormatException($"Tensor '{name}': missing string 'dtype'.");
        }
        var dtypeName = dtypeElement.GetString()!;
        if (!DtypesByName.TryGetValue(dtypeName, out var dtype))
        {
            throw new SafeTensorsFormatException(
                $"Tensor '{name}': dtype '{dtypeName}' is not supported; supported: {string.Join(", ", DtypesByName.Keys)}.");
        }
        var shape = ReadIntegers(name, element, "shape", expectedCount: null);
        var offsets = ReadIntegers(name, element, "data_offsets", expectedCount: 2);
        var (begin, end) = (offsets[0], offsets[1]);
        if (end < begin)
        {
            throw new SafeTensorsFormatException($"Tensor '{name}': data_offsets [{begin}, {end}] end before they begin.");
        }
        var elementSize = (long)DtypeElementSize(dtype);
        long expectedBytes = elementSize;
        foreach (var dim in shape)
        {
            expectedBytes = checked(expectedBytes * dim);
        }
        if (end - begin != expectedBytes)
        {
            var shapeText = string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            throw new SafeTensorsFormatException(
                $"Tensor '{name}': {dtypeName} [{shapeText}] needs {expectedBytes} bytes but data_offsets [{begin}, {end}] hold {end - begin}.");
        }
        return new TensorSpec(name, dtype, shape, begin, end);
    }

    private static long[] ReadIntegers(string name, JsonElement element, string property, int? expectedCount)
    {
        if (!element.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new SafeTensorsFormatException($"Tensor '{name}': missing array '{property}'.");
        }
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
            {
                throw new SafeTensorsFormatException($"Tensor '{name}': '{property}' must hold non-negative integers, found {item.GetRawText()}.");
            }
            values.Add(value);
        }
        if (expectedCount is { } count && values.Count != count)
        {
            throw new SafeTensorsFormatException($"Tensor '{name}': '{property}' must have {count} entries, found {values.Count}.");
        }
        return [.. values];
    }

    private static int DtypeElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }
}
