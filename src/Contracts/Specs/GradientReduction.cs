using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

/// <summary>How a worker with several devices takes part in the gradient all-reduce.</summary>
[GenerateSerializer]
public enum GradientReduction
{
    /// <summary>The default: <see cref="Hierarchical"/> when <c>workers.devicesPerWorker</c> &gt; 1, else <see cref="Flat"/>.</summary>
    [JsonStringEnumMemberName("auto")] Auto,

    /// <summary>Every device is its own member of one ring over all devices (same-host neighbours use shared memory).</summary>
    [JsonStringEnumMemberName("flat")] Flat,

    /// <summary>A worker's devices sum locally first (fixed device order), then one ring member per worker.</summary>
    [JsonStringEnumMemberName("hierarchical")] Hierarchical,
}
