using Microsoft.Extensions.Options;

namespace Plateau.Collective;

/// <summary>Validates <see cref="RingOptions"/>; each message names the setting at fault.</summary>
public sealed class RingOptionsValidator : IValidateOptions<RingOptions>
{
    /// <summary>Shortest accepted per-job secret.</summary>
    public const int MinSecretBytes = 16;

    /// <summary>Most streams per peer accepted.</summary>
    public const int MaxStreamsPerPeer = 16;

    public ValidateOptionsResult Validate(string? name, RingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.JobId))
        {
            failures.Add("RingOptions.JobId is required.");
        }
        if (options.Generation < 0)
        {
            failures.Add($"RingOptions.Generation must be ≥ 0 (was {options.Generation}).");
        }
        if (options.WorldSize < 1)
        {
            failures.Add($"RingOptions.WorldSize must be ≥ 1 (was {options.WorldSize}).");
        }
        if (options.Rank < 0 || options.Rank >= Math.Max(1, options.WorldSize))
        {
            failures.Add($"RingOptions.Rank must be in [0, WorldSize) = [0, {options.WorldSize}) (was {options.Rank}).");
        }
        if (options.Peers is null || options.Peers.Count != options.WorldSize)
        {
            failures.Add($"RingOptions.Peers must list one address per rank ({options.WorldSize}), has {options.Peers?.Count ?? 0}.");
        }
        else
        {
            for (var i = 0; i < options.Peers.Count; i++)
            {
                if (!Uri.TryCreate(options.Peers[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    failures.Add($"RingOptions.Peers[{i}] must be an absolute http:// or https:// address (was '{options.Peers[i]}').");
                }
            }
        }
        if (options.Secret is null || options.Secret.Length < MinSecretBytes)
        {
            failures.Add($"RingOptions.Secret must be at least {MinSecretBytes} bytes (was {options.Secret?.Length ?? 0}).");
        }
        RequirePositive(failures, nameof(RingOptions.ConnectTimeout), options.ConnectTimeout);
        RequirePositive(failures, nameof(RingOptions.OperationTimeout), options.OperationTimeout);
        if (options.ChunkBytes < RingOptions.MinChunkBytes || options.ChunkBytes > RingOptions.MaxChunkBytes || options.ChunkBytes % sizeof(float) != 0)
        {
            failures.Add($"RingOptions.ChunkBytes must be a multiple of 4 in [{RingOptions.MinChunkBytes}, {RingOptions.MaxChunkBytes}] (was {options.ChunkBytes}).");
        }
        if (options.TraceEveryNthOperation < 0)
        {
            failures.Add($"RingOptions.TraceEveryNthOperation must be ≥ 0 (0: no spans) (was {options.TraceEveryNthOperation}).");
        }
        if (options.StreamsPerPeer < 1 || options.StreamsPerPeer > MaxStreamsPerPeer)
        {
            failures.Add($"RingOptions.StreamsPerPeer must be in [1, {MaxStreamsPerPeer}] (was {options.StreamsPerPeer}).");
        }
        if (!Enum.IsDefined(options.Compression))
        {
            failures.Add($"RingOptions.Compression must be None, BFloat16 or Float16 (was {(int)options.Compression}).");
        }
        if (!Enum.IsDefined(options.Transport))
        {
            failures.Add($"RingOptions.Transport must be Grpc or Socket (was {(int)options.Transport}).");
        }
        if (options.TrustedCertificatePath is { } path && !File.Exists(path))
        {
            failures.Add($"RingOptions.TrustedCertificatePath '{path}' does not exist.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequirePositive(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"RingOptions.{name} must be positive (was {value}).");
        }
    }
}
