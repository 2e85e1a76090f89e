// migrate-mongo migration of the reference backend: indexes for message lookups by tag.
module.exports = {
  async up(db) {
    await db.collection('messages').createIndex({ tag: 1 });
  },

  async down(db) {
    await db.collection('messages').dropIndex({ tag: 1 });
  },
};
