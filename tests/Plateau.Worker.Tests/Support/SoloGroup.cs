using System.Security.Cryptography;
using Plateau.Collective;
using Plateau.Collective.Hosting;

namespace Plateau.Worker.Tests.Support;

/// <summary>A world-size-1 group: the trainer's path without peers.</summary>
internal static class SoloGroup
{
    public static CollectiveGroup Join() =>
        CollectiveGroup.JoinAsync(new CollectivePeerRegistry(new CollectiveServerOptions()), new RingOptions
        {
            JobId = "solo",
            Generation = 1,
            Rank = 0,
            WorldSize = 1,
            Peers = ["http://127.0.0.1:1"],
            Secret = RandomNumberGenerator.GetBytes(32),
        }).GetAwaiter().GetResult();
}
