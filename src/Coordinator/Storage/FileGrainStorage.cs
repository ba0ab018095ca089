using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;
using Plateau.Contracts.Specs;

namespace Plateau.Coordinator.Storage;

/// <summary>
/// Durable grain storage in a local folder for the embedded default: one JSON file per grain state,
/// written to a temporary file, flushed to disk and renamed over the old one, so a crash leaves either
/// the old or the new state, never a torn one. ETags detect concurrent writers.
/// </summary>
public sealed partial class FileGrainStorage(string name, FileGrainStorageOptions options, ILogger<FileGrainStorage> logger) : IGrainStorage
{
    private static readonly JsonSerializerOptions JsonOptions = new(JobSpecJson.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
        // A diverged run reports NaN losses; they must persist like any other number.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        try
        {
            await using var stream = File.OpenRead(path);
            var stored = await JsonSerializer.DeserializeAsync<StoredState>(stream, JsonOptions)
                ?? throw new InvalidDataException("empty state file");
            grainState.State = stored.State.Deserialize<T>(JsonOptions) ?? Activator.CreateInstance<T>();
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            LogUnreadable(logger, name, path, e);
            throw new InvalidOperationException($"grain storage '{name}': state file {path} of {grainId} cannot be read: {e.Message}", e);
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var path = PathOf(stateName, grainId);
        var currentETag = await ReadETagAsync(path);
        if (currentETag != grainState.ETag)
        {
            throw new InconsistentStateException(
                $"grain storage '{name}': {grainId} was written by someone else (stored ETag {currentETag ?? "none"}, ours {grainState.ETag ?? "none"})",
                currentETag, grainState.ETag);
        }

        var etag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var stored = new StoredState(etag, DateTimeOffset.UtcNow, grainId.ToString(), JsonSerializer.SerializeToElement(grainState.State, JsonOptions));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{etag}.tmp";
        await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await JsonSerializer.SerializeAsync(stream, stored, JsonOptions);
            await stream.FlushAsync();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var path = PathOf(stateName, grainId);
        var currentETag = await ReadETagAsync(path);
        if (currentETag is not null && currentETag != grainState.ETag)
        {
            throw new InconsistentStateException($"grain storage '{name}': {grainId} was written by someone else", currentETag, grainState.ETag);
        }

        File.Delete(path);
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private static async Task<string?> ReadETagAsync(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        using var document = await JsonDocument.ParseAsync(stream);
        return document.RootElement.TryGetProperty("eTag", out var etag) ? etag.GetString() : null;
    }

    /// <summary>root/{state name}/{grain type}/{key}.json with every unsafe character escaped.</summary>
    private string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(options.RootDirectory, Safe(stateName), Safe(grainId.Type.ToString()!), Safe(grainId.Key.ToString()!) + ".json");

    private static string Safe(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString() is "." or ".." ? "%2e" : builder.ToString();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain storage {StorageName}: state file {Path} cannot be read")]
    private static partial void LogUnreadable(ILogger logger, string storageName, string path, Exception exception);
}
