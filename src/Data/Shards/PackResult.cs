namespace Plateau.Data.Shards;

/// <summary>What <see cref="ShardWriter.Pack"/> wrote and which source files it could not read.</summary>
public sealed record PackResult(ShardManifest Manifest, IReadOnlyList<string> Skipped);
