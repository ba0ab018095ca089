using System.Text.Json;
using System.Text.Json.Serialization;
using Plateau.Data.Datasets;

namespace Plateau.Data.Shards;

/// <summary>
/// manifest.json written by <c>plateau data pack</c>: class names (index order), total samples, and per shard its file
/// name, sample count, size and SHA-256. Shards are WebDataset-style tars: per sample <c>&lt;key&gt;.jpg</c> (or .png)
/// followed by <c>&lt;key&gt;.cls</c> holding the class index in decimal ASCII.
/// </summary>
public sealed record ShardManifest(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("classes")] IReadOnlyList<string> Classes,
    [property: JsonPropertyName("totalSamples")] long TotalSamples,
    [property: JsonPropertyName("shards")] IReadOnlyList<ShardInfo> Shards)
{
    public const string FileName = "manifest.json";
    public const string FormatName = "plateau-shards";
    public const int CurrentVersion = 1;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Save(string path)
    {
        var temp = path + ".tmp";
        System.IO.File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        System.IO.File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads and validates a manifest; every problem names the field.</summary>
    public static ShardManifest Load(string path)
    {
        ShardManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ShardManifest>(System.IO.File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException($"{path}: not valid manifest JSON ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new DatasetFormatException($"{path}: cannot read the manifest ({e.Message})", e);
        }
        if (manifest is null)
        {
            throw new DatasetFormatException($"{path}: empty manifest");
        }
        if (manifest.Format != FormatName)
        {
            throw new DatasetFormatException($"{path}: format is '{manifest.Format}', expected '{FormatName}'");
        }
        if (manifest.Version != CurrentVersion)
        {
            throw new DatasetFormatException($"{path}: version {manifest.Version} is not supported (expected {CurrentVersion})");
        }
        if (manifest.Classes is not { Count: > 0 })
        {
            throw new DatasetFormatException($"{path}: 'classes' is missing or empty");
        }
        if (manifest.Shards is not { Count: > 0 })
        {
            throw new DatasetFormatException($"{path}: 'shards' is missing or empty");
        }
        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            var s = manifest.Shards[i];
            if (string.IsNullOrEmpty(s.File) || s.File.Contains('/', StringComparison.Ordinal) || s.File.Contains("..", StringComparison.Ordinal))
            {
                throw new DatasetFormatException($"{path}: shards[{i}].file '{s.File}' must be a plain file name next to the manifest");
            }
            if (s.Samples < 1 || s.Bytes < 1)
            {
                throw new DatasetFormatException($"{path}: shards[{i}] ({s.File}) has samples {s.Samples} and bytes {s.Bytes}; both must be positive");
            }
            if (s.Sha256 is not { Length: 64 } || s.Sha256.AsSpan().IndexOfAnyExcept(HexDigits) >= 0)
            {
                throw new DatasetFormatException($"{path}: shards[{i}].sha256 must be 64 lowercase hex digits");
            }
        }
        var total = manifest.Shards.Sum(s => (long)s.Samples);
        if (total != manifest.TotalSamples)
        {
            throw new DatasetFormatException($"{path}: totalSamples is {manifest.TotalSamples} but the shards hold {total}");
        }
        return manifest;
    }
}
