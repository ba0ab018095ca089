using System.Net;
using Orleans.Runtime;
using Plateau.Cluster.Placement;

namespace Plateau.Coordinator.Tests.Cluster;

public class OwningWorkerSiloTests
{
    private static readonly SiloAddress Coordinator = SiloAddress.New(IPEndPoint.Parse("127.0.0.1:11111"), 1);
    private static readonly SiloAddress Worker0 = SiloAddress.New(IPEndPoint.Parse("127.0.0.1:11112"), 1);
    private static readonly SiloAddress Worker1 = SiloAddress.New(IPEndPoint.Parse("127.0.0.1:11113"), 1);
    private static readonly SiloAddress Worker1Restarted = SiloAddress.New(IPEndPoint.Parse("127.0.0.1:11114"), 2);

    private static readonly Dictionary<SiloAddress, string> Names = new()
    {
        [Coordinator] = "coordinator", [Worker0] = "worker-0", [Worker1] = "worker-1", [Worker1Restarted] = "worker-1",
    };

    [Fact]
    public void AWorkerGrainGoesToTheSiloNamedByItsWorkerIdWhoeverPlacesIt()
    {
        var chosen = OwningWorkerSilo.Choose("worker-0/cpu:0", "worker-0", [Worker1, Worker0, Coordinator], s => Names[s]);

        Assert.Equal(Worker0, chosen);
    }

    [Fact]
    public void ARestartedWorkerThatJoinedBeforeItsPredecessorLeftGetsTheNewestGeneration()
    {
        var chosen = OwningWorkerSilo.Choose("worker-1/cpu:0", "worker-1", [Worker1, Worker1Restarted, Worker0], s => Names[s]);

        Assert.Equal(Worker1Restarted, chosen);
    }

    [Fact]
    public void AWorkerProcessThatIsNotInTheClusterFailsThePlacementNamingTheSilosThatAre()
    {
        var error = Assert.Throws<OrleansException>(() =>
            OwningWorkerSilo.Choose("worker-0/cpu:0", "worker-0", [Worker1], s => Names[s]));

        Assert.Contains("worker process worker-0 is not an active member", error.Message);
        Assert.Contains("worker-1", error.Message);
    }

    [Fact]
    public void ASiloWithoutAKnownNameIsNeverChosen()
    {
        Assert.Throws<OrleansException>(() => OwningWorkerSilo.Choose("worker-0/cpu:0", "worker-0", [Worker0], _ => null));
    }
}
