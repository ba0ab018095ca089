namespace Plateau.Contracts.Rendezvous;

[GenerateSerializer]
public enum DeviceKind
{
    Cpu,
    Cuda,
}
