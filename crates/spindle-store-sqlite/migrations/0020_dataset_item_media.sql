-- The media uploaded for dataset items: the SDKs register a media object with the dataset and
-- the item (which need not exist yet) and the field it is in (`input`, `expectedOutput`,
-- `metadata`) before they create the item with its reference string. One row per item, media
-- and field; items are read with the media their fields reference, whoever uploaded it.

CREATE TABLE dataset_item_media (
    project_id      TEXT NOT NULL,
    dataset_item_id TEXT NOT NULL,
    media_id        TEXT NOT NULL,
    field           TEXT NOT NULL,
    dataset_id      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (project_id, dataset_item_id, media_id, field)
);
CREATE INDEX dataset_item_media_by_media ON dataset_item_media (project_id, media_id);
