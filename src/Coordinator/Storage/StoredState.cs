using System.Text.Json;

namespace Plateau.Coordinator.Storage;

/// <summary>The file layout of one grain state: the ETag guards against two writers.</summary>
internal sealed record StoredState(string ETag, DateTimeOffset WrittenAt, string GrainId, JsonElement State);
