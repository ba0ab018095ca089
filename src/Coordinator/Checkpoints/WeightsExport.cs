using System.Buffers.Binary;
using System.Text.Json;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>
/// Plain weights out of a Plateau checkpoint (format <c>plateau-checkpoint/1</c>, written by the worker's
/// CheckpointFile): the <c>model.</c> tensors under their state-dict keys (torchvision/timm names,
/// BatchNorm statistics and <c>num_batches_tracked</c> included), without optimizer state. It works on
/// the bytes: the header is rewritten and the tensor data copied as it is, so the coordinator needs no
/// tensor library and the weights are bit-for-bit those of the checkpoint.
/// </summary>
public static class WeightsExport
{
    public const string CheckpointFormat = "plateau-checkpoint/1";
    public const string ModelPrefix = "model.";
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads the header of <paramref name="file"/> (a seekable checkpoint stream, read from its start;
    /// <paramref name="name"/> says which in errors) and plans the export. Throws <see cref="InvalidDataException"/>
    /// naming the problem when it is not a Plateau checkpoint.</summary>
    public static async Task<WeightsExportPlan> PlanAsync(Stream file, string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(metadata);
                var prefix = new byte[8];
        await file.ReadExactlyAsync(prefix, cancellationToken);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > file.Length - 8)
        {
            throw new InvalidDataException($"checkpoint {name}: header length {headerLength} does not fit the file ({file.Length} bytes): not a safetensors file");
        }

        var header = new byte[headerLength];
        await file.ReadExactlyAsync(header, cancellationToken);
        var dataStart = 8 + (long)headerLength;
        var dataLength = file.Length - dataStart;

        var tensors = new List<(string Name, string Dtype, long[] Shape, long Begin, long End)>();
        var source = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(header);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == MetadataKey)
                {
                    foreach (var item in entry.Value.EnumerateObject())
                    {
                        source[item.Name] = item.Value.GetString() ?? "";
                    }

                    continue;
                }

                if (!entry.Name.StartsWith(ModelPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var offsets = entry.Value.GetProperty("data_offsets");
                var (begin, end) = (offsets[0].GetInt64(), offsets[1].GetInt64());
                if (begin < 0 || end < begin || end > dataLength)
                {
                    throw new InvalidDataException($"checkpoint {name}: tensor '{entry.Name}' has data_offsets [{begin}, {end}] outside the {dataLength} data bytes");
                }

                tensors.Add((entry.Name[ModelPrefix.Length..], entry.Value.GetProperty("dtype").GetString()!,
                    [.. entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())], begin, end));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"checkpoint {name}: the safetensors header cannot be read: {e.Message}", e);
        }

        if (source.GetValueOrDefault("format") != CheckpointFormat)
        {
            throw new InvalidDataException($"checkpoint {name}: metadata format is '{source.GetValueOrDefault("format")}', expected '{CheckpointFormat}'");
        }

        if (tensors.Count == 0)
        {
            throw new InvalidDataException($"checkpoint {name} holds no '{ModelPrefix}' tensors");
        }

        // File order is the state dict's order (the writer packs tensors in order).
        tensors.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        var exported = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // What Hugging Face tooling expects of a PyTorch safetensors file.
            ["format"] = "pt",
        };
        foreach (var key in (string[])["model", "job", "generation", "epoch", "cursor", "global_step"])
        {
            if (source.TryGetValue(key, out var value))
            {
                exported["plateau." + key] = value;
            }
        }

        foreach (var (key, value) in metadata)
        {
            exported[key] = value;
        }

        return new WeightsExportPlan(BuildHeader(tensors, exported), [.. tensors.Select(t => (dataStart + t.Begin, t.End - t.Begin))], tensors.Count);
    }

    /// <summary>Writes the planned file in chunks of at most <paramref name="chunkBytes"/> to <paramref name="write"/>,
    /// reading the tensor bytes from <paramref name="file"/> (seekable) at the plan's offsets.</summary>
    public static async Task CopyAsync(Stream file, string name, WeightsExportPlan plan, Func<ReadOnlyMemory<byte>, Task> write, int chunkBytes = 1 << 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new byte[chunkBytes];
        var used = 0;
        async Task Append(ReadOnlyMemory<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                var take = Math.Min(bytes.Length, chunkBytes - used);
                bytes[..take].CopyTo(buffer.AsMemory(used));
                (used, bytes) = (used + take, bytes[take..]);
                if (used == chunkBytes)
                {
                    await write(buffer.AsMemory(0, used));
                    used = 0;
                }
            }
        }

        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)plan.Header.Length);
        await Append(prefix);
        await Append(plan.Header);
        var read = new byte[chunkBytes];
        foreach (var (offset, length) in plan.Ranges)
        {
            file.Position = offset;
            for (var left = length; left > 0;)
            {
                var n = await file.ReadAsync(read.AsMemory(0, (int)Math.Min(left, read.Length)), cancellationToken);
                if (n == 0)
                {
                    throw new InvalidDataException($"checkpoint {name} ended early at byte {file.Position}");
                }

                await Append(read.AsMemory(0, n));
                left -= n;
            }
        }

        if (used > 0)
        {
            await write(buffer.AsMemory(0, used));
        }
    }

    private static byte[] BuildHeader(IEnumerable<(string Name, string Dtype, long[] Shape, long Begin, long End)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (var (key, value) in metadata)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, dtype, shape, begin, end) in tensors)
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
                json.WriteNumberValue(offset + end - begin);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += end - begin;
            }

            json.WriteEndObject();
        }

        // Spaces up to an 8-byte boundary so the data starts aligned, as the reference writer does.
        while (buffer.Length % 8 != 0)
        {
            buffer.WriteByte((byte)' ');
        }

        return buffer.ToArray();
    }
}
