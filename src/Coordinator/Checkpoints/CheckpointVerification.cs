using System.Security.Cryptography;
using Plateau.Contracts.Checkpoints;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>Whether a committed checkpoint still holds the bytes its record names, read through the storage;
/// it reads every byte, so it runs on a request's own task, never in a grain turn.</summary>
public static class CheckpointVerification
{
    public static async Task<StorageOutcome> VerifyAsync(ICheckpointStorage storage, string jobId, CheckpointRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(record);
        var check = storage.Check(jobId, record);
        if (!check.IsSound)
        {
            return check;
        }

        await using var content = await storage.OpenReadAsync(jobId, record.CheckpointId, cancellationToken);
        var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));
        return string.Equals(sha, record.Sha256, StringComparison.OrdinalIgnoreCase)
            ? StorageOutcome.Sound
            : new StorageOutcome(StorageFault.WrongSha256, $"SHA-256 is {sha}, expected {record.Sha256}");
    }
}
