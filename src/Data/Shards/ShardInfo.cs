using System.Text.Json.Serialization;

namespace Plateau.Data.Shards;

/// <summary>One shard's entry in the manifest.</summary>
public sealed record ShardInfo(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("sha256")] string Sha256);
