// Integration tests drive real processes (Kafka, daprd, workflows): give them room.
jest.setTimeout(180_000);
