import NUMAModel
import Testing

@testable import NUMASampling

@Suite("Stratified address sampling")
struct AddressSamplerTests {
    let regions = [
        EligibleRegion(start: 0x10_0000, end: 0x10_0000 + 4096 * 1000),
        EligibleRegion(start: 0x7000_0000, end: 0x7000_0000 + 4096 * 3000),
    ]

    @Test("samples are page-aligned, inside regions, sorted and reproducible from the seed")
    func inside() {
        let sampler = AddressSampler(regions: regions)
        let a = sampler.addresses(count: 400, seed: 1)
        #expect(a.count == 400)
        #expect(a == a.sorted())
        #expect(a.allSatisfy { $0 % 4096 == 0 && sampler.region(ofAddress: $0) != nil })
        #expect(a == sampler.addresses(count: 400, seed: 1))
        #expect(a != sampler.addresses(count: 400, seed: 2))
    }

    @Test("each region gets samples in proportion to its size (stratified)")
    func proportional() {
        let sampler = AddressSampler(regions: regions)
        let a = sampler.addresses(count: 400, seed: 3)
        let inFirst = a.filter { sampler.region(ofAddress: $0) == 0 }.count
        // Stratification makes this exact to within one stratum.
        #expect(abs(inFirst - 100) <= 1)
    }

    @Test("asking for more samples than pages returns every page once")
    func everyPage() {
        let sampler = AddressSampler(regions: [EligibleRegion(start: 0, end: 4096 * 10)])
        #expect(sampler.addresses(count: 50, seed: 0) == (0..<10).map { UInt64($0) * 4096 })
    }

    @Test("no eligible memory: no samples")
    func empty() {
        #expect(AddressSampler(regions: []).addresses(count: 10, seed: 0).isEmpty)
    }
}
