"""A simulator of a vSphere Integrated Containers (VIC) container host's Docker Engine API.

No Docker engine can run on the testbed's machine, so ``migrate``'s engine source reads this: the
subset of the Engine API that the ``docker`` Python SDK and the ``docker`` CLI read (ping,
version, info, containers listed with filters and inspected, volumes of VIC volume stores with
their capacity, networks) and the writes that seed it (create, start, stop, remove containers,
volumes and networks). It answers as a VIC host does: volumes are VMDKs of a volume store
(driver ``vsphere``, ``VolumeStore`` and ``Capacity`` options, 1024 MB by default), host
directories cannot be mounted, ``docker info`` names the volume stores. State is in memory.
"""
