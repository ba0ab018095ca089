using System.Text.Json;
using System.Text.Json.Serialization;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Specs;

namespace Plateau.Worker.Training;

/// <summary>
/// What a checkpoint file says about its job besides the tensors and the position (metadata keys <c>spec</c>,
/// <c>scheduler</c>, <c>last_epoch</c>, each JSON): the spec it belongs to, in the one JSON shape of specs, and the
/// ticket's context (the plateau schedule's state and the metrics of the last finished epoch). With them a file
/// describes itself without the coordinator's registry; restore still takes the schedule from the registry.
/// </summary>
public sealed record CheckpointDescription(JobSpec Spec, CheckpointContext? Context)
{
    private const string SpecKey = "spec";
    private const string SchedulerKey = "scheduler";
    private const string LastEpochKey = "last_epoch";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // a diverged epoch's loss is NaN
    };

    /// <summary>The metadata entries, in a fixed order.</summary>
    public IEnumerable<KeyValuePair<string, string>> ToMetadata()
    {
        yield return new(SpecKey, JobSpecJson.Serialize(Spec));
        if (Context is { } context)
        {
            yield return new(SchedulerKey, JsonSerializer.Serialize(context.Scheduler, Json));
            if (context.LastEpoch is { } last)
            {
                yield return new(LastEpochKey, JsonSerializer.Serialize(last, Json));
            }
        }
    }

    /// <summary>Reads the description back from a checkpoint's metadata; <see cref="InvalidDataException"/> names the
    /// key that is missing or not what it should be.</summary>
    public static CheckpointDescription FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var spec = Read<JobSpec>(metadata, SpecKey, source, JobSpecJson.Options)
                   ?? throw new InvalidDataException($"checkpoint {source}: metadata '{SpecKey}' is missing");
        var scheduler = Read<Plateau.Contracts.Training.PlateauSchedulerState>(metadata, SchedulerKey, source, Json);
        var context = scheduler is null ? null : new CheckpointContext
        {
            Scheduler = scheduler,
            LastEpoch = Read<Plateau.Contracts.Training.EpochMetrics>(metadata, LastEpochKey, source, Json),
        };
        return new CheckpointDescription(spec, context);
    }

    private static T? Read<T>(IReadOnlyDictionary<string, string> metadata, string key, string source, JsonSerializerOptions options) where T : class
    {
        if (!metadata.TryGetValue(key, out var text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"checkpoint {source}: metadata '{key}' is not a {typeof(T).Name}: {e.Message}", e);
        }
    }
}
